"""The baseline: a bare Flask app that returns N bytes, served under the same gunicorn settings."""
from flask import Flask, Response

app = Flask(__name__)


@app.route("/bytes/<int:size>")
def sized(size: int) -> Response:
    return Response(b"x" * size, mimetype="text/html")
