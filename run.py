"""Server entry point: ``gunicorn run:app`` or ``python run.py`` (development)."""

from app import create_app

app = create_app(serve=True)

if __name__ == "__main__":
    app.run(host="0.0.0.0", port=app.config["PORT"], debug=app.config["DEBUG"], use_reloader=False)
