"""Entry point: `flask --app app ...`, `gunicorn app:app`, or `python app.py`.

`python app.py` on a fresh clone sets up an empty database first (migrations, publish the course).
"""
from courseware import create_app
from courseware.first_start import set_up_on_first_start

app = create_app()

if __name__ == "__main__":
    set_up_on_first_start(app)
    app.run(host="127.0.0.1", port=5000)
