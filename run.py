"""Server entry point: ``gunicorn -c gunicorn.conf.py run:app``, or ``python run.py``
(development). ``flask --app run.py <command>`` imports it too: the scheduler starts only
in a server (``serve``), from gunicorn.conf.py's worker hook or below."""

import gc

from app import create_app, serve

app = create_app()

# What exists now (modules, mappers, schemas, the app) lives as long as the process:
# frozen, it leaves the cyclic collector's generations, so a full collection no longer
# walks ~190,000 objects (an ~80 ms pause every few hundred requests in a worker).
gc.freeze()

if __name__ == "__main__":
    serve(app)
    app.run(host="0.0.0.0", port=app.config["PORT"], debug=app.config["DEBUG"], use_reloader=False)
