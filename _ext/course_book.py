"""A small Sphinx extension for the course website.

sphinx-thebe registers its configuration script once per read phase, and Jupyter Book can run more
than one read phase in a build, which declares ``const THEBE_JS_URL`` twice on a page (a JavaScript
error). Keep the first copy of every script on every page. The handler runs early (priority 100):
``html-page-context`` stops at the first handler that returns a template name. It edits the page's list
in place: the list is the builder's own, and handlers that run later (MathJax's) append to it.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", None) or "",  # inline scripts: None or ""
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
