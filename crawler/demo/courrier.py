"""Templates of "Le Courrier du Lac": French, almost no metadata, social line + ref at the end."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import ClassVar

from crawler.demo.content import Article, Section
from crawler.demo.layout import SiteLayout, attr, esc, slugify

logger = logging.getLogger(__name__)

MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

SOCIAL_LINE = "Suivez-nous sur Facebook et Instagram pour ne rien manquer de l'actualité du lac."


def french_datetime(value: datetime) -> str:
    return f"{value.day} {MOIS[value.month - 1]} {value.year} à {value:%Hh%M}"


class CourrierLayout(SiteLayout):
    """Article URLs: ``/article/<slug>-<ref>.html``; old-fashioned two-column layout."""

    name: ClassVar[str] = "courrier"
    about_path: ClassVar[str] = "/a-propos.html"
    private_path: ClassVar[str] = "/private/brouillons.html"
    css_path: ClassVar[str] = "/css/style.css"
    stylesheet: ClassVar[str] = (
        "body { font-family: Verdana, sans-serif; font-size: 13px; background: #eef3f7; }\n"
        ".conteneur { width: 960px; margin: 0 auto; background: #fff; }\n"
        "#colonne-gauche { float: left; width: 640px; }\n"
        "#colonne-droite { float: right; width: 300px; }\n"
    )

    def article_path(self, article: Article) -> str:
        return f"/article/{article.slug}-{article.ref}.html"

    def section_path(self, slug: str) -> str:
        return f"/rubrique/{slug}/"

    def tag_path(self, tag: str) -> str:
        return f"/mot-cle/{slugify(tag)}/"

    def reference(self, article: Article) -> str:
        return f"Réf. CDL-{article.published.year}-{article.ref}"

    def boilerplate(self, article: Article) -> list[str]:
        return [SOCIAL_LINE, self.reference(article)]

    # -- chrome -----------------------------------------------------------------------------

    def _document(self, title: str, head: str, left: str, fil: str = "") -> str:
        content = self.content
        menu = "".join(
            f'<li><a href="{self.section_path(s.slug)}">{esc(s.name)}</a></li>'
            for s in content.sections
        )
        latest = "".join(
            f'<li><a href="{self.article_path(a)}">{esc(a.headline)}</a></li>'
            for a in content.newest_first()[:4]
        )
        fil_html = f'<div class="fil-ariane">Vous êtes ici : {fil}</div>\n' if fil else ""
        return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(title)}</title>
{head}
<link rel="stylesheet" type="text/css" href="{self.css_path}">
</head>
<body>
<div class="conteneur">
<div id="entete">
  <a href="/" class="titre-site">Le Courrier du Lac</a>
  <p class="devise">{esc(content.tagline)}</p>
</div>
<ul id="menu"><li><a href="/">Accueil</a></li>{menu}\
<li><a href="{self.about_path}">Qui sommes-nous ?</a></li></ul>
{fil_html}<div id="colonne-gauche">
{left}
</div>
<div id="colonne-droite">
  <div class="bloc bloc-newsletter">
    <h3>La lettre du Courrier</h3>
    <p>Recevez chaque vendredi l'essentiel de l'actualité du lac.</p>
    <form action="/lettre" method="post"><input type="text" name="courriel" \
placeholder="Votre adresse électronique"> <input type="submit" value="OK"></form>
  </div>
  <div class="bloc bloc-dernieres">
    <h3>Dernières nouvelles</h3>
    <ul>{latest}</ul>
  </div>
</div>
<div id="pied">
  © 2024 {esc(content.publisher)} –
  <a href="{self.about_path}">Mentions légales</a> –
  <a href="{self.about_path}#contact">Contact</a> –
  <a href="{self.tag_path(content.featured_tag)}">Tout sur le lac</a>
</div>
</div>
</body>
</html>
"""

    def _item(self, article: Article, href: str) -> str:
        return f"""<li class="breve">
  <a class="breve-titre" href="{attr(href)}">{esc(article.headline)}</a>
  <span class="date">{article.published:%d/%m/%Y}</span>
  <p>{esc(article.description)}</p>
</li>"""

    def _listing(self, title: str, heading: str, path: str, articles: list[Article]) -> str:
        items = "\n".join(self._item(a, self.article_path(a)) for a in articles)
        head = f'<link rel="canonical" href="{self.url(path)}">'
        left = f"""<h1 class="titre-rubrique">{esc(heading)}</h1>
<ul class="liste-breves">
{items}
</ul>"""
        return self._document(f"{title} - Le Courrier du Lac", head, left, self._fil(heading))

    def _fil(self, *parts: str, section: Section | None = None) -> str:
        crumbs = ['<a href="/">Accueil</a>']
        if section is not None:
            crumbs.append(f'<a href="{self.section_path(section.slug)}">{esc(section.name)}</a>')
        crumbs.extend(esc(p) for p in parts)
        return " &gt; ".join(crumbs)

    # -- pages ------------------------------------------------------------------------------

    def render_home(self) -> str:
        items = "\n".join(
            self._item(a, self.teaser_href(a, i)) for i, a in enumerate(self.content.newest_first())
        )
        head = f'<link rel="canonical" href="{self.url("/")}">'
        left = f"""<h2 class="titre-rubrique">À la une</h2>
<ul class="liste-breves">
{items}
</ul>
<p class="lien-redaction"><a href="{self.private_path}">Espace rédaction</a> · \
<a href="{self.tag_path(self.content.featured_tag)}">Tous les articles sur le lac</a></p>"""
        return self._document("Le Courrier du Lac - Toute l'actualité du lac", head, left)

    def render_section(self, section: Section) -> str:
        return self._listing(
            section.name,
            section.name,
            self.section_path(section.slug),
            self.content.in_section(section.slug),
        )

    def render_tag(self, tag: str) -> str:
        return self._listing(
            f"Mot-clé : {tag}",
            f"Mot-clé : {tag}",
            self.tag_path(tag),
            self.content.tagged(tag),
        )

    def _static(self, title: str, path: str, paragraphs: tuple[str, ...]) -> str:
        body = "\n".join(f"<p>{esc(p)}</p>" for p in paragraphs)
        head = f'<link rel="canonical" href="{self.url(path)}">'
        left = f"""<h1 class="titre-rubrique">{esc(title)}</h1>
<div class="texte-statique">
{body}
</div>"""
        return self._document(f"{title} - Le Courrier du Lac", head, left, self._fil(title))

    def render_about(self) -> str:
        page = self.content.about
        return self._static(page.title, self.about_path, page.paragraphs)

    def render_private(self) -> str:
        page = self.content.private
        return self._static(page.title, self.private_path, page.paragraphs)

    def render_not_found(self) -> str:
        left = """<h1 class="titre-rubrique">Erreur 404</h1>
<p>La page demandée est introuvable. <a href="/">Retour à l'accueil</a></p>"""
        return self._document("Page introuvable - Le Courrier du Lac", "", left)

    def render_article(self, article: Article) -> str:
        content = self.content
        section = content.section(article.section)
        head = "\n".join(
            [
                f'<meta name="author" content="{attr(", ".join(article.authors))}">',
                '<meta property="og:type" content="article">',
                f'<link rel="canonical" href="{self.article_url(article)}">',
            ]
        )
        authors = " et ".join(f'<span class="auteur">{esc(n)}</span>' for n in article.authors)
        body = "\n".join(
            f"<p>{self.paragraph_html(article, i)}</p>" for i in range(len(article.paragraphs))
        )
        related = "".join(
            f'<li><a href="{self.article_path(r)}">{esc(r.headline)}</a> '
            f'<span class="chapo">{esc(r.description)}</span></li>'
            for r in content.related(article)
        )
        reactions = "\n".join(
            f"""<div class="reaction"><b>{esc(c.author)}</b> a réagi :
<blockquote>{esc(c.text)}</blockquote></div>"""
            for c in content.comments_for(article)
        )
        left = f"""<article class="article-complet">
<h1 class="titre-article">{esc(article.headline)}</h1>
<p class="signature">Par {authors} | Publié le <time datetime="\
{article.published.isoformat()}">{french_datetime(article.published)}</time></p>
<figure class="photo">
<img src="{article.image}" alt="" width="640" height="360">
<figcaption class="legende">{esc(article.image_caption)} ({esc(article.image_credit)})</figcaption>
</figure>
<div class="texte">
{body}
<p>{esc(SOCIAL_LINE)}</p>
<p>{esc(self.reference(article))}</p>
</div>
<div class="partage">Partager : <button type="button">Facebook</button> \
<button type="button">X</button> <button type="button">Courriel</button> \
<button type="button" onclick="window.print()">Imprimer</button></div>
</article>
<aside class="a-lire-aussi">
<h3>À lire aussi</h3>
<ul>{related}</ul>
</aside>
<div id="commentaires">
<h3>Réactions (2)</h3>
{reactions}
</div>"""
        return self._document(
            f"{article.headline} - Le Courrier du Lac",
            head,
            left,
            self._fil(article.headline, section=section),
        )
