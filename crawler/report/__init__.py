"""What a run and the crawls over time look like to a person: the end-of-run summary table
(:mod:`crawler.report.table`) and the HTML report of ``newscrawl report``
(:mod:`crawler.report.html`)."""
