from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files whose ES module imports (`import … from "./x.js"`) are
    rewritten to the hashed names too, so a deploy never mixes old and new modules."""

    support_js_module_import_aggregation = True
