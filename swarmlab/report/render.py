"""The report's sections as one self-contained HTML page (styles and pictures inline, no
script, no remote asset: it opens on a laptop with no network) and as markdown (pictures
as files beside it)."""

from __future__ import annotations

import html
import re
from typing import List

from .. import __version__
from .model import BAD, GOOD, WARN, Figure, Grid, Links, Section

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:1200px;
color:#222;padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
h3{font-size:1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.85em}td,th{border:1px solid #ccc;padding:.25em .6em;
vertical-align:top;text-align:left}th{background:#f2f2f2}
td.good{background:#e3f4e3}td.bad{background:#fbdcdc;font-weight:600}td.warn{background:#fff3cd}
section.bad>h2{border-color:#d62728}section.good>h2{border-color:#2ca02c}section.warn>h2{border-color:#e0a800}
figure{margin:.5em 0 1em;overflow-x:auto}figure svg{max-width:100%;height:auto}figcaption{font-size:.85em;color:#555}
nav a{margin-right:1em}p.line{margin:.2em 0}footer{margin-top:3em;font-size:.8em;color:#777}
"""
TONES = {GOOD, BAD, WARN}


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _grid_html(g: Grid) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in g.columns)
    body = []
    for row in g.rows:
        key = f' data-key="{_e(row[0].key)}"' if row and row[0].key else ""
        cells = "".join(
            f"<td{f' class={chr(34)}{c.tone}{chr(34)}' if c.tone in TONES else ''}>{_e(c.text)}</td>" for c in row
        )
        body.append(f"<tr{key}>{cells}</tr>")
    ident = f' id="{_e(g.id)}"' if g.id else ""
    return f"<h3>{_e(g.title)}</h3><table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _part_html(p) -> str:
    if isinstance(p, Grid):
        return _grid_html(p)
    if isinstance(p, Figure):
        return f"<figure>{p.svg}<figcaption>{_e(p.title)}</figcaption></figure>"
    if isinstance(p, Links):
        items = "".join(f'<li><a href="{_e(i["href"])}">{_e(i["text"])}</a></li>' for i in p.items)
        return f"<h3>{_e(p.title)}</h3><ul>{items}</ul>"
    raise TypeError(p)


def to_html(title: str, sections: List[Section], made: str) -> str:
    nav = "".join(f'<a href="#{_e(s.id)}">{_e(s.title)}</a>' for s in sections)
    body = []
    for s in sections:
        lines = "".join(f'<p class="line">{_e(x)}</p>' for x in s.lines)
        parts = "".join(_part_html(p) for p in s.parts)
        cls = f' class="{s.tone}"' if s.tone in TONES else ""
        body.append(f'<section id="{_e(s.id)}"{cls}><h2>{_e(s.title)}</h2>{lines}{parts}</section>')
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><nav>{nav}</nav>{''.join(body)}"
        f"<footer>made by swarmlab {_e(__version__)} at {_e(made)} from the results kept for this lab</footer>"
        "</body></html>\n"
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")  # what starts markup inside a line (links, emphasis, code, cells)


def _md(text: str) -> str:
    """Text from the lab (names, observations a service may have chosen) as literal markdown:
    every character that starts markup escaped, no raw HTML, one line."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ").replace("<", "&lt;")


def _grid_md(g: Grid) -> List[str]:
    out = [
        f"### {_md(g.title)}",
        "",
        "| " + " | ".join(_md(c) for c in g.columns) + " |",
        "|" + "---|" * len(g.columns),
    ]
    out += ["| " + " | ".join(_md(c.text) for c in row) + " |" for row in g.rows]
    return out + [""]


def to_markdown(title: str, sections: List[Section], made: str) -> str:
    out = [f"# {_md(title)}", ""]
    for s in sections:
        out += [f"## {_md(s.title)}", ""]
        out += [f"- {_md(x)}" for x in s.lines] + ([""] if s.lines else [])
        for p in s.parts:
            if isinstance(p, Grid):
                out += _grid_md(p)
            elif isinstance(p, Figure):
                out += [f"![{_md(p.alt or p.title)}]({p.file})", "", f"*{_md(p.title)}*", ""]
            elif isinstance(p, Links):
                out += [f"### {_md(p.title)}", ""] + [f"- [{_md(i['text'])}]({i['href']})" for i in p.items] + [""]
    out.append(f"made by swarmlab {__version__} at {made}; index.html is the same page with its pictures inline")
    return "\n".join(out) + "\n"
