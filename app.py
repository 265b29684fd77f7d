"""Entry point: `flask --app app ...`, `gunicorn app:app`, or `python app.py`.

`python app.py` on a fresh clone sets up an empty database first (migrations, publish the course).
"""
import gc

from courseware import create_app
from courseware.first_start import set_up_on_first_start

app = create_app()
# What start-up built (modules, the app: about 200,000 objects) lives as long as the process. Frozen, the cyclic
# garbage collector stops walking it on every full pass: 80-160 ms each, about one in forty quiz submits.
gc.freeze()

if __name__ == "__main__":
    set_up_on_first_start(app)
    app.run(host="127.0.0.1", port=5000)
