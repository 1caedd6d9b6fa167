"""The command line as a user meets it: data on stdout, talk on stderr, documented exit codes."""

import json
from pathlib import Path

from typer.testing import CliRunner

import pipeline.cli.store  # noqa: F401  registers the store commands on the app
from pipeline.cli.main import app
from pipeline.errors import ExitCode

SEED = Path(__file__).parent.parent / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt"
runner = CliRunner()


def test_parse_prints_json_documents_on_stdout():
    result = runner.invoke(app, ["parse", str(SEED)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["doc_number"] for d in data["documents"]] == ["临市民函〔2024〕89号", "晋民函〔2024〕169号"]
    assert data["documents"][1]["provenance"]["doc_number"]["span"]["end"] > 0


def test_parse_table_is_for_people():
    result = runner.invoke(app, ["parse", "--table", str(SEED)])
    assert result.exit_code == 0
    assert "发文字号" in result.stdout and "晋民函〔2024〕169号" in result.stdout and "省级" in result.stdout


def test_a_missing_file_names_the_file_and_exits_3(tmp_path: Path):
    missing = tmp_path / "不存在.pdf"
    result = runner.invoke(app, ["parse", str(missing)])
    assert result.exit_code == ExitCode.input_file == 3
    assert "不存在.pdf" in result.stderr and "no such file" in result.stderr
    assert result.stdout == ""


def test_html_named_pdf_is_refused_by_its_bytes(tmp_path: Path):
    fake = tmp_path / "notice.pdf"
    fake.write_text("<!DOCTYPE html><html><body>登录超时</body></html>", encoding="utf-8")
    result = runner.invoke(app, ["parse", str(fake)])
    assert result.exit_code == ExitCode.input_file
    assert "notice.pdf" in result.stderr
    assert result.stdout == ""


def test_ocr_prints_normalised_text_with_page_markers():
    result = runner.invoke(app, ["ocr", str(SEED)])
    assert result.exit_code == 0
    assert result.stdout.startswith("=== page 1 ===\n临汾市民政局\n临市民函〔2024〕89号\n")
    assert "扫描全能王" not in result.stdout
    raw = runner.invoke(app, ["ocr", "--raw", str(SEED)])
    assert "CS 扫描全能王" in raw.stdout


def test_when_reads_one_phrase_and_json_lines():
    one = runner.invoke(app, ["when", "请于 11 月 20 日前以电子版形式报省老龄办", "--year", "2024"])
    assert one.exit_code == 0 and json.loads(one.stdout)["end"] == "2024-11-20"
    lines = '{"phrase": "每月5日前报送", "issue_date": "2024-03-01"}\n{"phrase": "自印发之日起30日内", "issue_date": "2024-11-12"}\n'
    batch = runner.invoke(app, ["when", "-"], input=lines)
    results = [json.loads(line) for line in batch.stdout.splitlines()]
    # 自印发之日起30日内 opens on the issue date: a window, not a bare due date.
    assert [r["kind"] for r in results] == ["recurring", "range"]
    assert (results[1]["start"], results[1]["end"]) == ("2024-11-12", "2024-12-12")


def test_when_batch_reports_a_bad_line_and_keeps_the_rest():
    batch = runner.invoke(app, ["when", "-"], input='{"phrase": "12月底前"}\nnot json\n{"phrase": "年底前", "issue_date": "2024-05-01"}\n')
    rows = [json.loads(line) for line in batch.stdout.splitlines()]
    assert len(rows) == 3 and "error" in rows[1] and rows[2]["end"] == "2024-12-31"
    assert batch.exit_code == ExitCode.input_file


def test_every_command_has_help_text():
    for command in app.registered_commands:
        assert command.callback.__doc__, command.name
        result = runner.invoke(app, [command.name or command.callback.__name__, "--help"])
        assert result.exit_code == 0


def test_ingest_without_a_terminal_logs_a_line_per_file_on_stderr(tmp_path: Path):
    """A batch run by cron or make has no bar to watch: each finished file is a line on stderr,
    while stdout keeps only the JSON lines."""
    html = tmp_path / "portal-error.pdf"
    html.write_text("<!DOCTYPE html><html><body>404</body></html>", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(SEED), str(html), "--db", str(tmp_path / "n.db")])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == ["done", "rejected"]
    progress = [line for line in result.stderr.splitlines() if line.startswith("ingest ") and " so far" in line]
    assert len(progress) == 2
    assert progress[0].startswith(f"ingest 1/2 {SEED}: done, 1 page, ")
    assert progress[1].startswith(f"ingest 2/2 {html}: rejected, ")
