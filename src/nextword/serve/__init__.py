"""The next-word explorer: a local web page and JSON API over any saved models.

    explorer.py   the numbers: next-word distributions, per-token scores, sampling, for any
                  LanguageModel (no web code; cached per context so a keystroke costs one step)
    schemas.py    the API's request and response models (pydantic: validation + OpenAPI)
    app.py        the FastAPI app factory over already-loaded models; limits; static page
    static/       the page (index.html, app.js, app.css), shipped inside the package

`nextword serve MODEL ...` (nextword.commands.serve) loads the models and runs it with uvicorn.
"""
