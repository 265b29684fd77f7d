#!/usr/bin/env bash
# CI: build the wheel, install it in a fresh venv and serve it from an empty folder.
# Proves the package carries everything it needs (templates, static, the course, migrations,
# translations) and finds its instance folder in the working directory, not in site-packages.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Build from a copy of what the wheel is made of, so the checkout gets no build/ folder.
mkdir "$work/src" "$work/run"
tar --exclude=__pycache__ -cf - pyproject.toml setup.py MANIFEST.in README.md courseware templates static lessons quizzes \
  | tar -xf - -C "$work/src"
"$python" -m pip wheel -q --no-deps -w "$work/dist" "$work/src"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work"/dist/courseware-*.whl

# From an empty folder, with nothing pointing back at the checkout.
cd "$work/run"
unset DATABASE_URL INSTANCE_PATH COURSE_DIR SECRET_KEY REDIS_URL FLASK_APP
export PATH="$work/venv/bin:$PATH"
flask --app courseware setup --demo | tee "$work/setup.log"
password="$(awk '$2 == "trainee@example.com" {print $3}' "$work/setup.log")"
[ -n "$password" ] || { echo "wheel_boot: no trainee password in setup's output" >&2; exit 1; }
[ -f instance/courseware.db ] || { echo "wheel_boot: no instance/courseware.db in the working folder" >&2; exit 1; }

port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
flask --app courseware run --port "$port" >"$work/server.log" 2>&1 &
server=$!

python - "$port" "$password" "$work/venv" <<'PY' || { cat "$work/server.log" >&2; exit 1; }
import http.cookiejar, json, re, sys, time, urllib.parse, urllib.request

port, password, venv = sys.argv[1], sys.argv[2], sys.argv[3]
import courseware
from courseware.learning.certification import FONT
assert courseware.__file__.startswith(venv), f"imported from {courseware.__file__}, not the installed wheel"
assert FONT.is_file(), f"certificate font missing: {FONT}"

base = f"http://127.0.0.1:{port}"
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def get(path, data=None):
    body = urllib.parse.urlencode(data).encode() if data else None
    with opener.open(base + path, body, timeout=10) as response:
        return response.status, response.geturl(), response.read().decode()

for _ in range(150):
    try:
        status, _url, text = get("/healthz")
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("wheel_boot: the server did not answer within 30 s")
health = json.loads(text)
assert health["status"] == "ok" and health["revision"] and health["serving"] == health["revision"]["id"], health

status, _url, page = get("/login")
assert status == 200, status
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
status, url, home = get("/login", {"csrf_token": token, "email": "trainee@example.com", "password": password})
assert status == 200 and not url.endswith("/login"), f"login failed: {url}"
lesson = re.search(r'href="(/lessons/[^"/]+)"', home) or re.search(r'href="(/modules/[^"]+)"', home)
assert lesson, "no lesson or module link on the trainee's home page"
status, _url, page = get(lesson.group(1))
if "/modules/" in lesson.group(1):
    status, _url, page = get(re.search(r'href="(/lessons/[^"/]+)"', page).group(1))
assert status == 200 and ("<article" in page or "<h1" in page), "lesson page did not render"
with opener.open(base + "/static/css/app.css", timeout=10) as response:
    assert response.status == 200
print(f"wheel_boot: OK — revision {health['revision']['id']} served on port {port}; trainee logged in and read a lesson")
PY
