"""Pictures and files of the course: uploaded in the studio, drafted, published, served, exported and imported."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from conftest import in_english

from courseware import media as stored
from courseware.content import CourseInvalid, compile_sources
from courseware.content import media as kinds
from courseware.content.archive import unpack
from courseware.extensions import db
from courseware.models import ContentRevision, MediaBlob, Role
from courseware.publishing import publish
from courseware.studio import drafts

LESSON = "lessons/01-what-is-internal-customer/01-definition.md"
LESSON_ID = "ic-definition"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SHA = hashlib.sha256(PNG).hexdigest()


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")):
            archive.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


@pytest.fixture
def trainer(make_user, login):
    _id, email = make_user(Role.TRAINER)
    login(email)
    return email


def _upload(client, data: bytes, filename: str, **fields):
    return client.post(
        "/studio/media", data={"file": (io.BytesIO(data), filename), **fields}, content_type="multipart/form-data"
    )


def _with_picture(text: str, reference: str = "![客户地图](media/map.png)") -> str:
    return text.replace("## 讲解\n", f"## 讲解\n\n{reference}\n", 1)


def _lesson_text(app) -> str:
    with app.app_context():
        return drafts.working_files()[LESSON]


def test_a_picture_goes_from_upload_to_the_draft_preview_to_the_learners_lesson(app, client, published, make_user, login, trainer):
    uploaded = _upload(client, PNG, "map.png")
    assert uploaded.status_code == 302
    page = client.get("/studio/media")
    assert "![说明](media/map.png)" in page.text and f"/studio/media/{SHA}/map.png" in page.text

    edited = _with_picture(_lesson_text(app))
    preview = client.post("/studio/preview", data={"text": edited, "version": "0", "path": LESSON})
    assert f'src="/studio/media/{SHA}/map.png"' in preview.text and "preview-errors" not in preview.text, preview.text
    assert client.get(f"/studio/media/{SHA}/map.png").data == PNG, "trainers see draft pictures"
    assert client.post(f"/studio/files/{LESSON}", data={"text": edited, "version": "0", "action": "save"}).status_code == 302
    assert "media/map.png" in client.get("/studio/changes").text

    assert client.post("/studio/publish", data={"note": "a picture"}).status_code == 302
    with app.app_context():
        assert drafts.drafts() == [] and drafts.media_drafts() == []
        assert stored.revision_media(drafts.live_revision_id()) == {"map.png": SHA}
    client.post("/logout")

    _id, email = make_user(Role.TRAINEE)
    login(email)
    lesson = client.get(f"/lessons/{LESSON_ID}")
    assert f'<img alt="客户地图" src="/media/{SHA}/map.png">' in lesson.text
    picture = client.get(f"/media/{SHA}/map.png")
    assert picture.status_code == 200 and picture.data == PNG
    assert picture.mimetype == "image/png"
    assert picture.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in picture.headers["Cache-Control"] and "max-age=31536000" in picture.headers["Cache-Control"]
    assert picture.headers["Content-Disposition"].startswith("inline")
    assert client.get(f"/media/{SHA}/map.png", headers={"If-None-Match": f'"{SHA}"'}).status_code == 304
    for wrong in (f"/media/{SHA}/other.png", f"/media/{'0' * 64}/map.png", "/media/xyz/map.png", f"/media/{SHA}/map.svg"):
        assert client.get(wrong).status_code == 404, wrong
    assert client.get(f"/studio/media/{SHA}/map.png").status_code == 403, "draft media are for trainers"
    client.post("/logout")
    assert client.get(f"/media/{SHA}/map.png").status_code == 302, "anonymous visitors are sent to log in"


def test_a_file_to_download_is_sent_as_an_attachment(app, client, published, make_user, login):
    with app.app_context():
        sha = stored.store("guide.pdf", PDF)
        files = drafts.live_files()
        files[LESSON] = _with_picture(files[LESSON], "[下载指南](media/guide.pdf)")
        publish(files, media={"guide.pdf": sha})
    login(make_user()[1])
    assert f'href="/media/{sha}/guide.pdf"' in client.get(f"/lessons/{LESSON_ID}").text
    download = client.get(f"/media/{sha}/guide.pdf")
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="guide.pdf"'


def test_a_missing_picture_is_refused_at_publish_with_file_and_line_and_the_live_course_stays(app, client, published, trainer):
    in_english(client)
    edited = _with_picture(_lesson_text(app), "![图](media/missing.png)")
    line = edited.splitlines().index("![图](media/missing.png)") + 1
    client.post(f"/studio/files/{LESSON}", data={"text": edited, "version": "0", "action": "save"})
    refused = client.post("/studio/publish", data={"note": ""}, follow_redirects=True)
    assert "Nothing was published" in refused.text
    changes = client.get("/studio/changes").text
    assert f"<code>{LESSON}</code></a>:{line}:" in changes and "there is no picture media/missing.png" in changes
    with app.app_context():
        assert drafts.live_revision_id() == published
        with pytest.raises(CourseInvalid) as invalid:
            compile_sources(drafts.working_files(), {})
    assert [(e.path, e.line) for e in invalid.value.errors] == [(LESSON, line)]


def test_a_deleted_picture_a_lesson_still_shows_cannot_be_published(app, client, published, trainer):
    _upload(client, PNG, "map.png")
    client.post(f"/studio/files/{LESSON}", data={"text": _with_picture(_lesson_text(app)), "version": "0", "action": "save"})
    assert client.post("/studio/publish", data={}).status_code == 302
    assert client.post("/studio/media/delete", data={"name": "map.png", "version": "0"}).status_code == 302
    client.post("/studio/publish", data={})
    with app.app_context():
        assert stored.revision_media(drafts.live_revision_id()) == {"map.png": SHA}, "the live course keeps its picture"
        assert drafts.working_media() == {}


@pytest.mark.parametrize("filename, data, says", [
    ("map.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "SVG pictures can carry scripts"),
    ("notes.txt", b"hello", "not an accepted kind of file"),
    ("map.png", PDF, "is not a PNG file inside"),
    ("report.pdf", b"<html><script>alert(1)</script></html>", "is not a PDF file inside"),
    ("table.xlsx", _docx(), "is not a Excel file inside"),
    ("empty.png", b"", "is empty"),
    ("big.png", PNG + b"\x00" * 2048, "a picture or file may be at most"),
])
@pytest.mark.parametrize("app_config", [{"MEDIA_MAX_BYTES": 1024}])
def test_a_wrong_kind_mismatched_content_or_oversize_file_is_refused_on_the_form(app, client, published, trainer, filename, data, says, app_config):
    in_english(client)
    refused = _upload(client, data, filename)
    assert refused.status_code == 400
    assert says in refused.text and 'id="file-errors"' in refused.text
    with app.app_context():
        assert drafts.media_drafts() == [] and db.session.query(MediaBlob).count() == 0


def test_a_name_in_use_is_refused_unless_replacing_and_an_odd_name_gets_a_safe_one(app, client, published, trainer):
    in_english(client)
    assert _upload(client, PNG, "map.png").status_code == 302
    assert "is in the course already" in _upload(client, PNG + b"1", "map.png").text
    assert _upload(client, PNG + b"1", "x.png", replace="map.png", version="1").status_code == 302
    assert _upload(client, _docx(), "地图说明.docx").status_code == 302
    with app.app_context():
        media = drafts.working_media()
    assert media["map.png"] == hashlib.sha256(PNG + b"1").hexdigest()
    assert [name for name in media if name.endswith(".docx")] == [f"file-{hashlib.sha256(_docx()).hexdigest()[:10]}.docx"]
    assert _upload(client, PNG, "y.png", replace="map.png", version="1").status_code == 409, "a stale version is a conflict"


def test_the_course_zip_carries_media_and_uploading_it_restores_them_after_a_rollback(app, client, published, trainer):
    _upload(client, PNG, "map.png")
    _upload(client, _docx(), "card.docx")
    client.post(f"/studio/files/{LESSON}", data={"text": _with_picture(_lesson_text(app)), "version": "0", "action": "save"})
    client.post("/studio/publish", data={})
    download = client.get("/studio/download/course.zip")
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert archive.read("lessons/media/map.png") == PNG and archive.read("lessons/media/card.docx") == _docx()

    assert client.post(f"/studio/revisions/{published}/rollback").status_code == 302
    with app.app_context():
        assert stored.revision_media(drafts.live_revision_id()) == {}, "rolling back takes the media of that revision"

    uploaded = client.post("/studio/upload", data={"file": (io.BytesIO(download.data), "course.zip")}, content_type="multipart/form-data")
    assert uploaded.status_code == 302, uploaded.text
    with app.app_context():
        assert drafts.working_media() == {"map.png": SHA, "card.docx": hashlib.sha256(_docx()).hexdigest()}
    assert client.post("/studio/publish", data={}).status_code == 302
    with app.app_context():
        assert set(stored.revision_media(drafts.live_revision_id())) == {"map.png", "card.docx"}
        assert db.session.query(MediaBlob).count() == 2, "each file is stored once, whatever revisions use it"
    compare = client.get(f"/studio/revisions/compare?from={published}")
    assert "media/map.png" in compare.text


def test_cli_export_writes_media_and_check_and_import_read_them(app, published, tmp_path):
    with app.app_context():
        sha = stored.store("map.png", PNG)
        files = drafts.live_files()
        files[LESSON] = _with_picture(files[LESSON])
        publish(files, media={"map.png": sha})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "export", str(tmp_path / "out")]).exit_code == 0
    assert (tmp_path / "out" / "lessons" / "media" / "map.png").read_bytes() == PNG
    checked = runner.invoke(args=["content", "check", str(tmp_path / "out")])
    assert checked.exit_code == 0 and "1 pictures and files" in checked.output, checked.output
    again = runner.invoke(args=["content", "import", str(tmp_path / "out")])
    assert again.exit_code == 0 and "nothing changed" in again.output, again.output

    (tmp_path / "out" / "lessons" / "media" / "map.png").unlink()
    missing = runner.invoke(args=["content", "check", str(tmp_path / "out")])
    assert missing.exit_code == 1 and f"{LESSON}:" in missing.output and "media/map.png" in missing.output
    (tmp_path / "out" / "lessons" / "media" / "map.png").write_bytes(b"<svg/>")
    assert "is not a PNG file inside" in runner.invoke(args=["content", "check", str(tmp_path / "out")]).output


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def test_unpacking_checks_media_by_declared_size_before_reading_and_by_content():
    bomb = _zip({"lessons/course.md": b"x", "lessons/media/huge.png": PNG + b"\x00" * 50_000})
    unpacked = unpack(bomb, "course.zip", media_max_bytes=10_000)
    assert unpacked.media == {} and "at most" in unpacked.errors[0].reason

    lying = bytearray(bomb)  # the same archive, its entries declaring a small size
    for header in (b"PK\x03\x04", b"PK\x01\x02"):
        start = 0
        while (start := lying.find(header, start)) != -1:
            offset = start + (22 if header == b"PK\x03\x04" else 24)
            if b"huge.png" in lying[start:start + 120]:
                lying[offset:offset + 4] = (100).to_bytes(4, "little")
            start += 4
    refused = unpack(bytes(lying), "course.zip", media_max_bytes=10_000)
    assert refused.media == {} and refused.errors, "what is read is checked again, whatever the archive declares"

    good = unpack(_zip({"export/lessons/course.md": b"x", "export/lessons/media/map.png": PNG, "export/lessons/media/evil.svg": b"<svg/>"}), "c.zip")
    assert "SVG" in good.errors[0].reason
    ok = unpack(_zip({"lessons/course.md": b"x", "lessons/media/map.png": PNG}), "c.zip")
    assert ok.errors == [] and ok.media == {"map.png": PNG} and ok.files == {"lessons/course.md": b"x"}


@pytest.mark.parametrize("name, data, ok", [
    ("a.png", PNG, True), ("a.PNG", PNG, True), ("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 10, True),
    ("a.gif", b"GIF89a" + b"\x00" * 10, True), ("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 ", True),
    ("a.pdf", PDF, True), ("a.docx", _docx(), True),
    ("a.jpg", PNG, False), ("a.svg", b"<svg/>", False), ("a b.png", PNG, False), ("../a.png", PNG, False),
    (".png", PNG, False), ("a.html", b"<html>", False), ("a.docx", b"PK\x03\x04broken", False),
])
def test_media_kinds_are_told_by_name_and_content(name, data, ok):
    assert (kinds.problem(name, data) is None) is ok


def test_the_same_media_make_no_new_revision_and_other_media_do(app, course_sources):
    with app.app_context():
        first = publish(course_sources, media={}).revision.id
        sha = stored.store("map.png", PNG)
        second = publish(course_sources, media={"map.png": sha})
        assert second.created and publish(course_sources, media={"map.png": sha}).created is False
        assert db.session.get(ContentRevision, first).source_hash != second.revision.source_hash
