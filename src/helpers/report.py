"""One self-contained, offline HTML report from the executed notebooks.

``export_html(notebooks, out)`` concatenates the executed notebooks (in order, with a table of contents),
embeds every image as base64 and inlines the JavaScript the page needs, so the file opens with no network:

* the Jupyter widget manager (``@jupyter-widgets/html-manager`` standalone ``dist/embed.js``, which bundles the
  built-in controls and needs no require.js) renders the widget state saved in the notebooks;
* MathJax 3 (``es5/tex-svg-full.js``: SVG output, so no font files) typesets the maths.

Both bundles come from the npm registry at build time (``npm pack``) into ``paths.CACHE/npm`` (gitignored);
nothing third-party is committed. Widget state must be saved when the notebooks are executed (nbclient/papermill
``store_widget_state=True``, the default) under ``nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]``.
"""
from __future__ import annotations

import base64
import fnmatch
import html
import mimetypes
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import nbformat

from . import paths

HTML_MANAGER = ("@jupyter-widgets/html-manager", "1.0.15")
"""The html-manager release that matches ipywidgets 8.1.x (widget state version 2, controls 2.0.0)."""
MATHJAX = ("mathjax", "3.2.2")
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

# webpack's "automatic publicPath" throws when the bundle is an inline <script> (no src); assets we need are inlined.
_PUBLIC_PATH_THROW = 'if(!e)throw new Error("Automatic publicPath is not supported in this browser");'
_PUBLIC_PATH_FIX = 'if(!e)e="./";'


def _npm_package(name: str, version: str, members: list[str], cache: Path | None = None,
                 optional: tuple[str, ...] = ()) -> Path:
    """Directory holding ``members`` (paths inside the npm tarball, without 'package/') of ``name@version``.

    ``optional`` are glob patterns of further files to unpack when present (e.g. fonts next to a bundle).
    """
    cache = Path(cache or paths.CACHE) / "npm"
    dest = cache / f"{name.replace('@', '').replace('/', '__')}-{version}"
    if all((dest / m).is_file() for m in members):
        return dest
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            f"The offline report needs {name}@{version} from the npm registry, but `npm` is not installed and "
            f"there is no cached copy in {dest}. Install Node.js/npm (e.g. `apt-get install npm`) and rerun, or "
            f"unpack the files {members} of `npm pack {name}@{version}` into {dest}.")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        proc = subprocess.run([npm, "pack", f"{name}@{version}", "--silent"], cwd=tmp,
                              capture_output=True, text=True, timeout=600)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            raise RuntimeError(f"`npm pack {name}@{version}` failed (exit {proc.returncode}): "
                               f"{(proc.stderr or proc.stdout).strip()[-800:]}")
        staging = Path(tmp) / "out"
        with tarfile.open(tarballs[0]) as tar:
            names = [n[len("package/"):] for n in tar.getnames() if n.startswith("package/")]
            extra = [n for n in names if any(fnmatch.fnmatch(n, g) for g in optional)]
            for m in members + ["LICENSE", "package.json"] + extra:
                try:
                    info = tar.getmember(f"package/{m}")
                except KeyError:
                    if m in members:
                        raise RuntimeError(f"{name}@{version} has no file {m}") from None
                    continue
                target = staging / m
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(info).read())
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    return dest


def ensure_widget_js(cache: Path | None = None) -> Path:
    """Path of the standalone widget renderer ``embed.js`` (html-manager), fetched into the cache on first use.

    Raises RuntimeError with a how-to sentence when npm is missing and nothing is cached.
    """
    name, version = HTML_MANAGER
    d = _npm_package(name, version, ["dist/embed.js"], cache, optional=("dist/*.woff2",))
    return d / "dist" / "embed.js"


def ensure_mathjax_js(cache: Path | None = None) -> Path:
    """Path of the single-file MathJax 3 bundle (TeX input, SVG output), fetched into the cache on first use."""
    name, version = MATHJAX
    d = _npm_package(name, version, ["es5/tex-svg-full.js"], cache)
    return d / "es5" / "tex-svg-full.js"


def _widget_js_inline(path: Path) -> str:
    """The embed.js text patched to run as an inline script, with its icon font (woff2) inlined as data URIs."""
    js = path.read_text(encoding="utf-8")
    if _PUBLIC_PATH_THROW not in js:
        raise RuntimeError(f"{path}: unexpected bundle layout (publicPath guard not found); "
                           "pin HTML_MANAGER to a version this module was tested with")
    js = js.replace(_PUBLIC_PATH_THROW, _PUBLIC_PATH_FIX)
    for font in path.parent.glob("*.woff2"):
        data = base64.b64encode(font.read_bytes()).decode()
        js = re.sub(r'\w+\.p\+"' + re.escape(font.name) + '"', f'"data:font/woff2;base64,{data}"', js)
    return _script_safe(js)


def _script_safe(js: str) -> str:
    """Text that can sit inside <script>...</script> (no early close tag)."""
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


# --------------------------------------------------------------------------------------------------------------
# combining notebooks

_MD_IMG = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
_HTML_IMG = re.compile(r"(<img\b[^>]*?\bsrc=[\"'])([^\"']+)([\"'])", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,2})\s+(.+?)\s*#*\s*$")


def _data_uri(src: str, base: Path) -> str | None:
    if re.match(r"^(data:|https?:|attachment:|#)", src):
        return None
    p = (base / src).resolve()
    if not p.is_file():
        return None
    mime = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(p.read_bytes()).decode()}"


def _embed_markdown_images(source: str, base: Path) -> str:
    """Replace local image paths in markdown/HTML with base64 data URIs (paths relative to the notebook)."""
    def md(m: re.Match) -> str:
        uri = _data_uri(m.group(2), base)
        return m.group(1) + uri + m.group(3) if uri else m.group(0)

    def tag(m: re.Match) -> str:
        uri = _data_uri(m.group(2), base)
        return m.group(1) + uri + m.group(3) if uri else m.group(0)

    return _HTML_IMG.sub(tag, _MD_IMG.sub(md, source))


def _plain(text: str) -> str:
    """Heading text without markdown emphasis/links, for the table of contents."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*_`]", "", text).strip()


def combine_notebooks(notebooks: list[Path], title: str = "Report") -> nbformat.NotebookNode:
    """One notebook: a table of contents, then every notebook's cells in order, with merged widget state.

    Each notebook gets the anchor ``nb-<stem>`` and each of its level-1/2 headings ``nb-<stem>-<k>``.
    """
    combined = nbformat.v4.new_notebook()
    toc: list[str] = []
    cells = []
    state: dict = {}
    for i, path in enumerate(notebooks):
        path = Path(path)
        nb = nbformat.read(path, as_version=4)
        stem = re.sub(r"[^A-Za-z0-9_-]", "-", path.stem)
        anchor = f"nb-{stem}"
        heads: list[tuple[int, str, str]] = []
        nb_cells = []
        for k, cell in enumerate(nb.cells):
            cell = nbformat.from_dict(dict(cell))
            cell["id"] = f"{stem[:40]}-{k}"
            if cell.cell_type == "markdown":
                lines, in_code = [], False
                for line in cell.source.splitlines():
                    if line.lstrip().startswith("```"):
                        in_code = not in_code
                    m = None if in_code else _HEADING.match(line)
                    if m:
                        a = f"{anchor}-{len(heads)}"
                        heads.append((len(m.group(1)), _plain(m.group(2)), a))
                        lines.append(f'<a id="{a}" class="swm-anchor"></a>\n')
                    lines.append(line)
                cell.source = _embed_markdown_images("\n".join(lines), path.parent)
            nb_cells.append(cell)
        nb_title = next((h[1] for h in heads if h[0] == 1), path.stem)
        toc.append(f'<li><a href="#{anchor}">{html.escape(nb_title)}</a>')
        subs = [h for h in heads if h[0] == 2]
        if subs:
            toc.append("<ul>" + "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for _, t, a in subs)
                       + "</ul>")
        toc.append("</li>")
        sep = '<hr class="swm-notebook-sep">' if i else ""
        cells.append(nbformat.v4.new_markdown_cell(
            f'{sep}<a id="{anchor}" class="swm-anchor"></a><div class="swm-nbname">{html.escape(path.name)} · '
            f'<a href="#swm-toc">contents</a></div>'))
        cells.extend(nb_cells)
        ws = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {})
        state.update(ws.get("state", {}))
    head = nbformat.v4.new_markdown_cell(
        f'<a id="swm-toc"></a>\n\n# {html.escape(title)}\n\n<nav class="swm-toc"><b>Contents</b><ol>'
        + "".join(toc) + "</ol></nav>")
    combined.cells = [head] + cells
    combined.metadata["title"] = title
    if notebooks:
        first = nbformat.read(Path(notebooks[0]), as_version=4)
        for key in ("kernelspec", "language_info"):
            if key in first.metadata:
                combined.metadata[key] = first.metadata[key]
    if state:
        combined.metadata["widgets"] = {WIDGET_STATE_MIME: {"version_major": 2, "version_minor": 0,
                                                            "state": state}}
    return combined


_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
  processEscapes: true, processEnvironments: true, tags: 'ams'},
  options: {ignoreHtmlClass: 'tex2jax_ignore|jp-OutputArea-output|jp-InputArea', processHtmlClass: 'jp-RenderedMarkdown'},
  svg: {fontCache: 'global'}};
</script>
<script>{{ resources.swm_mathjax_js }}</script>
{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}
<style>
.swm-toc { border: 1px solid #ddd; border-radius: 4px; padding: .5em 1.5em; margin: 1em 0; background: #fafafa; }
.swm-toc ol { margin: .3em 0; } .swm-toc ul { margin: .1em 0 .3em 0; font-size: 95%; }
.swm-nbname { color: #777; font-size: 85%; font-family: monospace; }
hr.swm-notebook-sep { border: 0; border-top: 3px double #bbb; margin: 2.5em 0 1em 0; }
.jupyter-widgets { font-family: var(--jp-ui-font-family); }
</style>
{%- endblock extra_css -%}
{% block footer_js %}
{{ super() }}
<script>{{ resources.swm_widget_js }}</script>
{% endblock footer_js %}
"""


def export_html(notebooks: list[Path], out: Path, title: str = "Report", cache: Path | None = None) -> Path:
    """Write ONE self-contained offline HTML file with all ``notebooks`` (executed, in order) and return ``out``.

    Images are base64-embedded, the widget state of all notebooks is merged and rendered by the inlined
    widget manager, maths by inlined MathJax; the page loads nothing from the network.
    """
    import jinja2
    from nbconvert import HTMLExporter

    notebooks = [Path(p) for p in notebooks]
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"notebooks not found: {', '.join(missing)}")
    nb = combine_notebooks(notebooks, title=title)
    exporter = HTMLExporter(template_name="lab", embed_images=True,
                            extra_loaders=[jinja2.DictLoader({"swm_offline.html.j2": _TEMPLATE})])
    exporter.template_file = "swm_offline.html.j2"
    resources = {
        "metadata": {"name": title, "path": str(notebooks[0].parent) if notebooks else "."},
        "swm_widget_js": _widget_js_inline(ensure_widget_js(cache)),
        "swm_mathjax_js": _script_safe(ensure_mathjax_js(cache).read_text(encoding="utf-8")),
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out)
    return out


def network_references(html_text: str) -> list[str]:
    """src/href attributes in the page that would load something from the network (should be empty)."""
    refs = re.findall(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["']((?:https?:)?//[^"']+)""",
                      html_text, flags=re.IGNORECASE)
    return sorted(set(refs))
