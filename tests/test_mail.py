"""`perfeval mail`: the packages sent upward, checked on a real SMTP server (aiosmtpd, 127.0.0.1).

Every test builds its own OUTBOX as `perfeval batch` leaves it (perfeval-batch.json, a roll-up,
scored copies with Chinese names) and runs the command as a user does (`python -m perfeval_xlsx`).
The expected figures are worked out by hand below, not taken from the code.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import ssl
import subprocess
import sys
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest

from .conftest import run_cli

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")
trustme = pytest.importorskip("trustme")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PASSWORD = "Zq7#pw-4f81-unmistakable"  # distinctive: must never show up anywhere
USER = "cwk@czj.example.cn"
SENDER = "财务科 <cwk@czj.example.cn>"
BOSS = "jxk@czj.example.cn"
COLLEAGUE = "lisi@czj.example.cn"
NOBODY = "nobody@czj.example.cn"

UNIT_A = "乌鲁木齐市工商联"
UNIT_B = "天山区工商联"
ROLLUP = "汇总_20261122-080000.xlsx"
A1 = f"{UNIT_A}_非公有制党建工作经费_评分.xlsx"
A2 = f"{UNIT_A}_商会会员培训经费_评分.xlsx"
B1 = f"{UNIT_B}_民营经济统计调查经费_评分.xlsx"
ERROR_1 = "H25：分值合计为 99，应为 100。请调整各三级指标的分值，使合计为 100。"
ERROR_2 = "F9：全年执行数 120.5 大于全年预算数 100，请核对执行数或预算数。"
WARNING_1 = "K14：实际完成值为空。请填写实际完成值，或在偏差原因中说明。"
# by hand: the two projects with a real grade are 97.58 (优) and 86.30 (良); the third has errors
AVERAGE = "91.94"  # (97.58 + 86.30) / 2 = 183.88 / 2


# --------------------------------------------------------------------------- OUTBOX


def _workbook(path: Path, title: str, rows: int = 5) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "评分汇总"
    ws["A1"] = title
    for r in range(2, rows + 2):
        ws.cell(r, 1, f"指标{r - 1}")
        ws.cell(r, 2, r * 1.5)
    wb.save(path)


def _entry(unit: str, name: str, output: str | None, status: str, total, grade, findings=(), rate=83.69):
    return {
        "file": f"收件箱/{unit}_{name}.xlsx", "output": output, "status": status,
        "project": {"name": name, "department": "乌鲁木齐市工商业联合会", "unit": unit, "year": 2024},
        "findings": list(findings), "execution_rate": rate, "execution_score": 4.18 if total is not None else None,
        "total": total, "grade": grade,
    }


def _finding(code: str, severity: str, cell: str, message: str) -> dict:
    return {"code": code, "severity": severity, "sheet": "自评表", "cell": cell, "field": "weight", "value": 99,
            "message": message}


def write_batch(outbox: Path, entries: list[dict], rollup: str | None = ROLLUP) -> None:
    counts = {s: sum(1 for e in entries if e["status"] == s) for s in ("ok", "warnings", "errors", "unreadable")}
    data = {"generated_at": "2026-11-22T08:00:00", "profile": "mof-2020", "files": entries,
            "summary": {"total": len(entries), **counts, "skipped": 0}, "rollup": rollup}
    (outbox / "perfeval-batch.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


@pytest.fixture
def outbox(tmp_path) -> Path:
    """Three projects of two units: A1 ok (优), A2 warnings (良), B1 errors (待更正)."""
    box = tmp_path / "输出"
    box.mkdir()
    _workbook(box / ROLLUP, "2024年度项目支出绩效自评汇总", rows=12)
    _workbook(box / A1, "非公有制党建工作经费")
    _workbook(box / A2, "商会会员培训经费", rows=8)
    _workbook(box / B1, "民营经济统计调查经费", rows=3)
    write_batch(box, [
        _entry(UNIT_A, "非公有制党建工作经费", A1, "ok", 97.58, "优"),
        _entry(UNIT_A, "商会会员培训经费", A2, "warnings", 86.30, "良",
               [_finding("W-ACTUAL-EMPTY", "warning", "K14", WARNING_1)], rate=100.0),
        _entry(UNIT_B, "民营经济统计调查经费", B1, "errors", 72.50, "待更正",
               [_finding("E-WEIGHT-SUM", "error", "H25", ERROR_1), _finding("E-SPENT", "error", "F9", ERROR_2)],
               rate=120.5),
    ])
    return box


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log_lines(box: Path) -> list[dict]:
    path = box / "perfeval-mail-log.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --------------------------------------------------------------------------- running the command


def mail_cli(*args: str, cwd: Path | None = None, password: str | None = None) -> subprocess.CompletedProcess:
    """`perfeval mail ...` with no terminal on stdin (a password prompt must never hang a test)."""
    return run_cli("mail", *args, cwd=cwd, env={"PERFEVAL_SMTP_PASSWORD": password})


def assert_clean_failure(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("错误："), result.stderr  # one error line, last
    assert all(line.startswith("提醒：") for line in lines[:-1]), result.stderr
    for word in words:
        assert word in lines[-1], (word, result.stderr)


# --------------------------------------------------------------------------- SMTP servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """aiosmtpd handler: keeps every accepted message; refuses the addresses in `refuse`."""

    def __init__(self, refuse: tuple[str, ...] = ()):
        self.refuse = {a.lower() for a in refuse}
        self.messages: list[dict] = []
        self.logins: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from, "to": list(envelope.rcpt_tos), "raw": envelope.original_content,
            "authenticated": bool(getattr(session, "authenticated", False)),
        })
        return "250 2.0.0 Message accepted for delivery"

    def parsed(self) -> list:
        return [message_from_bytes(m["raw"], policy=policy.default) for m in self.messages]


class Server:
    def __init__(self, controller, handler: Recorder, cafile: Path | None = None):
        self.controller, self.handler, self.cafile = controller, handler, cafile
        self.port = controller.port
        self.address = f"127.0.0.1:{self.port}"

    @property
    def messages(self):
        return self.handler.messages


@pytest.fixture
def smtp_server():
    """Factory: start an aiosmtpd server on 127.0.0.1; all are stopped after the test."""
    started = []

    def start(refuse: tuple[str, ...] = (), **kwargs) -> Server:
        handler = Recorder(refuse)
        controller = aiosmtpd_controller.Controller(
            handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10, **kwargs,
        )
        controller.start()
        started.append(controller)
        return Server(controller, handler)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def tls(tmp_path):
    """A private certificate authority (trustme), the server's context and the CA file for clients."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    cafile = tmp_path / "单位根证书.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return server_ctx, cafile


def authenticator(accepted: list[str]):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, aiosmtpd_smtp.LoginPassword)
              and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode())
        if ok:
            accepted.append(auth_data.login.decode())
        return aiosmtpd_smtp.AuthResult(success=ok, handled=False)

    return check


@pytest.fixture
def starttls_server(smtp_server, tls):
    """STARTTLS required, AUTH required (only after TLS), one user with PASSWORD."""
    server_ctx, cafile = tls
    logins: list[str] = []
    server = smtp_server(tls_context=server_ctx, require_starttls=True,
                         authenticator=authenticator(logins), auth_required=True)
    server.cafile, server.logins = cafile, logins
    return server


def attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


# --------------------------------------------------------------------------- the message itself


def test_one_message_carries_every_file_byte_for_byte_and_the_real_figures(outbox, smtp_server):
    server = smtp_server()
    result = mail_cli(str(outbox), "--to", f"绩效科 <{BOSS}>", "--cc", COLLEAGUE, "--from", SENDER,
                      "--smtp", server.address)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr

    assert len(server.messages) == 1
    received = server.messages[0]
    assert received["from"] == "cwk@czj.example.cn"
    assert received["to"] == [BOSS, COLLEAGUE]
    msg = server.handler.parsed()[0]
    assert msg["Subject"] == "2024年度项目支出绩效自评评分结果（3个项目）"
    assert msg["From"].addresses[0].display_name == "财务科"
    assert msg["To"].addresses[0].display_name == "绩效科" and msg["To"].addresses[0].addr_spec == BOSS
    assert msg["Cc"].addresses[0].addr_spec == COLLEAGUE

    # attachments: the roll-up first, then the scored copies, byte-identical, xlsx type
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == [ROLLUP, A1, A2, B1]
    for part in parts:
        assert part.get_content_type() == XLSX
        assert part.get_content() == (outbox / part.get_filename()).read_bytes()

    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "共 3 个项目，涉及 2 个实施单位（乌鲁木齐市工商联、天山区工商联）" in body
    assert "通过 1 个，有预警 1 个，有错误待更正 1 个" in body  # the words of the console and the roll-up
    assert "优 1 个，良 1 个，待更正 1 个" in body
    assert f"平均分：{AVERAGE} 分" in body
    assert "天山区工商联《民营经济统计调查经费》" in body
    assert ERROR_1 in body and ERROR_2 in body
    assert WARNING_1 not in body  # warnings are in the scored copy, not in the list of things to fix
    assert "总分 97.58，等级 优，预算执行率 83.69%" in body
    assert "总分 72.50，等级 待更正，预算执行率 120.50%" in body
    for name in (ROLLUP, A1, A2, B1):
        assert name in body

    # the console: one line per message, then a final line
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "收件人" in lines[0] and "2024年度项目支出绩效自评评分结果（3个项目）" in lines[0] and "附件 4 个" in lines[0]
    assert lines[1].startswith("完成：已发送 1 封邮件")

    # the record: one line, the accepted recipients, each file's name and SHA-256
    [record] = log_lines(outbox)
    assert [r for r in record["to"]] == [f"绩效科 <{BOSS}>"] and record["cc"] == [COLLEAGUE]
    assert record["subject"] == "2024年度项目支出绩效自评评分结果（3个项目）"
    assert [(a["name"], a["sha256"]) for a in record["attachments"]] == [
        (n, sha(outbox / n)) for n in (ROLLUP, A1, A2, B1)
    ]
    assert record["time"] and record["refused"] == []


def test_chinese_attachment_names_use_rfc2231_and_encoded_word_fallback(outbox, smtp_server):
    server = smtp_server()
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address)
    assert result.returncode == 0, result.stderr
    raw = server.messages[0]["raw"]
    assert raw.isascii()  # 7-bit clean: every server and client takes it
    msg = message_from_bytes(raw, policy=policy.default)
    parts = list(msg.iter_attachments())
    assert len(parts) == 4
    # the raw part headers, each part's header block separately
    blocks = [b.split(b"\r\n\r\n", 1)[0].decode("ascii") for b in raw.split(b"\r\n--")[2:-1]]
    assert len(blocks) == 4
    for block, name in zip(blocks, [ROLLUP, A1, A2, B1]):
        unfolded = re.sub(r"\r\n[ \t]", " ", block)
        disposition = re.search(r"^Content-Disposition: (.*)$", unfolded, re.M).group(1)
        content_type = re.search(r"^Content-Type: (.*)$", unfolded, re.M).group(1)
        assert re.search(r"filename\*(0\*)?=utf-8''", disposition), disposition
        assert content_type.startswith(XLSX + ";")
        # RFC 2231 alone: join the continuations and percent-decode
        pieces = re.findall(r"filename\*(?:\d+\*)?=(?:utf-8'')?([^;\s]+)", disposition)
        assert unquote("".join(pieces), encoding="utf-8") == name
        # the encoded-word fallback alone: name="=?utf-8?b?...?=" decodes to the same name
        words = re.search(r'name="([^"]*)"', content_type).group(1)
        assert words.startswith("=?utf-8?b?")
        assert str(make_header(decode_header(words))) == name
    # and the email package reads the right name, also from the fallback when Content-Disposition is gone
    for part, name in zip(parts, [ROLLUP, A1, A2, B1]):
        assert part.get_filename() == name
        del part["Content-Disposition"]
        assert part.get_filename() == name


def test_long_chinese_name_folds_into_several_words_that_still_decode(tmp_path):
    from perfeval_xlsx.mail import build_message, load_batch, message_bytes, plan_messages

    box = tmp_path / "输出"
    box.mkdir()
    long_name = "新疆维吾尔自治区乌鲁木齐市天山区工商业联合会_2024年度非公有制经济组织党建工作专项经费_评分.xlsx"
    _workbook(box / long_name, "长名字")
    _workbook(box / ROLLUP, "汇总")
    write_batch(box, [_entry(UNIT_B, "非公有制经济组织党建工作专项经费", long_name, "ok", 90.0, "优")])
    plan = plan_messages(load_batch(box), sender=SENDER, to=[BOSS])
    raw = message_bytes(build_message(plan.messages[0]))
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998
        if line.startswith(b" =?utf-8?b?") or line.startswith(b' name="'):
            assert len(line) <= 78
    msg = message_from_bytes(raw, policy=policy.default)
    part = list(msg.iter_attachments())[1]
    assert part.get_filename() == long_name
    del part["Content-Disposition"]
    assert part.get_filename() == long_name


# --------------------------------------------------------------------------- grouping and size


def test_per_unit_sends_one_message_per_unit_with_only_its_files(outbox, smtp_server):
    server = smtp_server()
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--per-unit")
    assert result.returncode == 0, result.stderr
    msgs = server.handler.parsed()
    assert [m["Subject"] for m in msgs] == [
        "2024年度项目支出绩效自评评分结果（乌鲁木齐市工商联，2个项目）",
        "2024年度项目支出绩效自评评分结果（天山区工商联，1个项目）",
        "2024年度项目支出绩效自评评分汇总表（3个项目）",  # the roll-up covers all units: its own message
    ]
    assert list(attachments(msgs[0])) == [A1, A2]
    assert list(attachments(msgs[1])) == [B1]
    assert list(attachments(msgs[2])) == [ROLLUP]
    for msg in msgs:
        for name, data in attachments(msg).items():
            assert data == (outbox / name).read_bytes()
    body_a = msgs[0].get_body().get_content()
    body_b = msgs[1].get_body().get_content()
    assert "实施单位：乌鲁木齐市工商联，共 2 个项目" in body_a
    assert f"平均分：{AVERAGE} 分" in body_a and "民营经济统计调查经费" not in body_a
    assert "实施单位：天山区工商联，共 1 个项目" in body_b
    assert ERROR_1 in body_b and ERROR_2 in body_b and "非公有制党建工作经费" not in body_b
    assert "平均分" not in body_b  # its only project must be corrected first
    assert len(result.stdout.strip().splitlines()) == 4
    assert len(log_lines(outbox)) == 3


def test_max_size_splits_into_numbered_messages_and_a_too_large_file_goes_alone(tmp_path, smtp_server):
    # files of known size: 30 000 bytes -> base64 40 000 characters + 527 line ends (CRLF) = 41 054
    # bytes on the wire. Limit 0.1 MB = 104 857 bytes: two such files (82 108) fit with the text,
    # three (123 162) do not. The 150 000-byte file (205 264 on the wire) exceeds the limit alone.
    box = tmp_path / "输出"
    box.mkdir()
    names = [ROLLUP] + [f"单位{i}_项目{i}_评分.xlsx" for i in range(1, 5)] + ["大单位_大项目_评分.xlsx"]
    sizes = [30000] * 5 + [150000]
    for i, (name, size) in enumerate(zip(names, sizes)):
        (box / name).write_bytes(bytes((i * 7 + k * 31) % 251 for k in range(size)))
    write_batch(box, [_entry(f"单位{i}", f"项目{i}", f"单位{i}_项目{i}_评分.xlsx", "ok", 90.0, "优") for i in range(1, 5)]
                + [_entry("大单位", "大项目", "大单位_大项目_评分.xlsx", "ok", 80.0, "良")])
    server = smtp_server()
    result = mail_cli(str(box), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--max-size", "0.1")
    assert result.returncode == 0, result.stderr
    msgs = server.handler.parsed()
    base = "2024年度项目支出绩效自评评分结果（5个项目）"
    assert [m["Subject"] for m in msgs] == [f"{base}（{k}/4）" for k in range(1, 5)]
    assert [list(attachments(m)) for m in msgs] == [names[0:2], names[2:4], names[4:5], names[5:6]]
    for m in server.messages[:3]:
        assert len(m["raw"]) <= 104857
    assert len(server.messages[3]["raw"]) > 104857
    received = {n: d for m in msgs for n, d in attachments(m).items()}
    assert received == {n: (box / n).read_bytes() for n in names}
    assert "提醒：" in result.stderr and "大单位_大项目_评分.xlsx" in result.stderr and "超过单封上限 0.1 MB" in result.stderr
    assert "分 4 封邮件发送，这是第 2 封" in msgs[1].get_body().get_content()


# --------------------------------------------------------------------------- TLS and login


def test_starttls_with_login(outbox, starttls_server, tmp_path):
    server = starttls_server
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--starttls",
                      "--user", USER, "--cafile", str(server.cafile), password=PASSWORD)
    assert result.returncode == 0, result.stderr
    assert server.logins == [USER]
    assert len(server.messages) == 1 and server.messages[0]["authenticated"]
    assert PASSWORD.encode() not in server.messages[0]["raw"]
    msg = server.handler.parsed()[0]
    assert attachments(msg) == {n: (outbox / n).read_bytes() for n in (ROLLUP, A1, A2, B1)}
    record = (outbox / "perfeval-mail-log.jsonl").read_text(encoding="utf-8")
    for text in (result.stdout, result.stderr, record):
        assert PASSWORD not in text
    assert len(log_lines(outbox)) == 1


def test_starttls_with_a_config_file_and_the_password_from_the_environment(outbox, starttls_server, tmp_path):
    server = starttls_server
    work = tmp_path / "财务科"
    work.mkdir()
    (work / "单位根证书.pem").write_bytes(server.cafile.read_bytes())  # relative to the config file
    (work / "perfeval.toml").write_text(
        "[mail]\n"
        f'smtp = "{server.address}"\nstarttls = true\nuser = "{USER}"\nfrom = "{SENDER}"\n'
        f'to = ["绩效科 <{BOSS}>"]\ncc = "{COLLEAGUE}"\ncafile = "单位根证书.pem"\n'
        'subject = "{year}年度绩效自评结果报送（{count}个项目）"\n',
        encoding="utf-8",
    )
    result = mail_cli(str(outbox), cwd=work, password=PASSWORD)
    assert result.returncode == 0, result.stderr
    [received] = server.messages
    assert received["to"] == [BOSS, COLLEAGUE]
    assert server.handler.parsed()[0]["Subject"] == "2024年度绩效自评结果报送（3个项目）"
    # options override the file
    result = mail_cli(str(outbox), "--to", "other@czj.example.cn", "--resend", cwd=work, password=PASSWORD)
    assert result.returncode == 0, result.stderr
    assert server.messages[1]["to"] == ["other@czj.example.cn", COLLEAGUE]


def test_implicit_ssl(outbox, smtp_server, tls):
    server_ctx, cafile = tls
    server = smtp_server(ssl_context=server_ctx)
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--ssl",
                      "--cafile", str(cafile))
    assert result.returncode == 0, result.stderr
    assert len(server.messages) == 1


def test_unknown_certificate_is_explained(outbox, smtp_server, tls):
    server_ctx, _ = tls
    server = smtp_server(ssl_context=server_ctx)
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--ssl")
    assert_clean_failure(result, "证书", "--cafile")
    assert log_lines(outbox) == []


def test_wrong_password_exits_2_and_records_nothing(outbox, starttls_server):
    server = starttls_server
    wrong = "Wr0ng#pw-93c1-other"
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--starttls",
                      "--user", USER, "--cafile", str(server.cafile), password=wrong)
    assert_clean_failure(result, "登录邮件服务器", "用户名或密码不正确", "535")
    assert wrong not in result.stderr + result.stdout
    assert server.messages == [] and server.logins == []
    assert not (outbox / "perfeval-mail-log.jsonl").exists()


def test_a_password_typed_with_a_chinese_input_method_is_explained(outbox, starttls_server):
    server = starttls_server
    typed = "abc１２３。"  # full-width digits and a Chinese full stop
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--starttls",
                      "--user", USER, "--cafile", str(server.cafile), password=typed)
    assert_clean_failure(result, "全角", "中文输入法")
    assert typed not in result.stderr + result.stdout
    assert server.messages == []


def test_login_needs_a_password_from_the_environment_without_a_terminal(outbox, starttls_server):
    server = starttls_server
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--starttls",
                      "--user", USER, "--cafile", str(server.cafile))
    assert_clean_failure(result, "PERFEVAL_SMTP_PASSWORD")
    assert server.messages == []


def test_login_without_starttls_on_a_server_that_requires_it(outbox, starttls_server):
    server = starttls_server
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address,
                      "--user", USER, password=PASSWORD)
    assert_clean_failure(result, "--starttls")
    assert PASSWORD not in result.stderr + result.stdout
    assert server.messages == [] and log_lines(outbox) == []


def test_starttls_not_supported(outbox, smtp_server):
    server = smtp_server()
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--starttls")
    assert_clean_failure(result, "不支持 STARTTLS", "--ssl")
    assert server.messages == [] and log_lines(outbox) == []


# --------------------------------------------------------------------------- failures


def test_stopped_server_exits_2_and_records_nothing(outbox):
    port = free_port()  # nothing listens there
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", f"127.0.0.1:{port}")
    assert_clean_failure(result, f"127.0.0.1:{port}", "连接被拒绝", "--smtp")
    assert not (outbox / "perfeval-mail-log.jsonl").exists()


def test_silent_server_times_out(outbox):
    with socket.socket() as listener:  # accepts connections (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", f"127.0.0.1:{port}", "--timeout", "1")
    assert_clean_failure(result, "超时", "1 秒")
    assert log_lines(outbox) == []


def test_refused_recipient_exits_2_and_records_nothing(outbox, smtp_server):
    server = smtp_server(refuse=(NOBODY,))
    result = mail_cli(str(outbox), "--to", NOBODY, "--from", SENDER, "--smtp", server.address)
    assert_clean_failure(result, NOBODY, "550", "收件人")
    assert server.messages == []
    assert not (outbox / "perfeval-mail-log.jsonl").exists()


def test_partly_refused_recipients_record_only_who_accepted(outbox, smtp_server):
    server = smtp_server(refuse=(NOBODY,))
    result = mail_cli(str(outbox), "--to", BOSS, "--cc", NOBODY, "--from", SENDER, "--smtp", server.address,
                      "--per-unit")
    assert_clean_failure(result, NOBODY, "550", BOSS)
    # the first message reached the boss only, and the run stopped there
    assert [m["to"] for m in server.messages] == [[BOSS]]
    [record] = log_lines(outbox)
    assert record["to"] == [BOSS] and record["cc"] == [] and record["refused"] == [NOBODY]
    assert "已发送" in result.stdout  # the accepted message was reported
    # the address corrected: everything goes to the new recipients (the colleague has nothing yet)
    result = mail_cli(str(outbox), "--to", BOSS, "--cc", COLLEAGUE, "--from", SENDER, "--smtp", server.address,
                      "--per-unit")
    assert result.returncode == 0, result.stderr
    assert [m["to"] for m in server.messages[1:]] == [[BOSS, COLLEAGUE]] * 3


def test_server_size_limit_is_checked_before_anything_is_sent(outbox, smtp_server):
    server = smtp_server(data_size_limit=12000)  # SIZE 12000; the first message (two ~5 KB workbooks) is larger
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--per-unit")
    assert_clean_failure(result, "限制单封邮件", "--max-size")
    assert server.messages == [] and log_lines(outbox) == []


def test_rerun_sends_nothing_new_and_resend_sends_again(outbox, smtp_server):
    server = smtp_server()
    args = (str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address)
    assert mail_cli(*args).returncode == 0
    assert len(server.messages) == 1

    again = mail_cli(*args)
    assert again.returncode == 0, again.stderr
    assert len(server.messages) == 1
    assert "已跳过" in again.stdout and "4 个文件" in again.stdout and "--resend" in again.stdout
    assert len(log_lines(outbox)) == 1

    # a scored copy re-made (new content, same name) is new: only it goes
    _workbook(outbox / B1, "民营经济统计调查经费（更正后）", rows=9)
    changed = mail_cli(*args)
    assert changed.returncode == 0, changed.stderr
    assert len(server.messages) == 2
    assert list(attachments(server.handler.parsed()[1])) == [B1]

    resent = mail_cli(*args, "--resend")
    assert resent.returncode == 0, resent.stderr
    assert len(server.messages) == 3
    assert list(attachments(server.handler.parsed()[2])) == [ROLLUP, A1, A2, B1]
    assert len(log_lines(outbox)) == 3


def test_missing_batch_json_asks_to_run_batch_first(tmp_path):
    box = tmp_path / "空的输出"
    box.mkdir()
    result = mail_cli(str(box), "--to", BOSS, "--from", SENDER, "--eml", str(tmp_path / "草稿"))
    assert_clean_failure(result, "perfeval-batch.json", "请先运行 perfeval batch")


def test_batch_json_missing_a_field_is_named(outbox):
    data = json.loads((outbox / "perfeval-batch.json").read_text(encoding="utf-8"))
    del data["files"][1]["output"]
    (outbox / "perfeval-batch.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--dry-run")
    assert_clean_failure(result, "files[1].output")


def test_batch_json_cannot_attach_files_outside_outbox(outbox, tmp_path):
    secret = tmp_path / "私人文件.xlsx"
    secret.write_bytes(b"not for mail")
    data = json.loads((outbox / "perfeval-batch.json").read_text(encoding="utf-8"))
    data["files"][0]["output"] = "../私人文件.xlsx"
    (outbox / "perfeval-batch.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--dry-run")
    assert_clean_failure(result, "不在文件夹")


@pytest.mark.parametrize("args, words", [
    (("--to", BOSS, "--from", SENDER), ("--smtp", "--eml")),
    (("--to", BOSS, "--from", SENDER, "--smtp", "127.0.0.1:25", "--eml", "x"), ("只能选一个",)),
    (("--from", SENDER, "--eml", "x"), ("收件人", "--to")),
    (("--to", "绩效科", "--from", SENDER, "--eml", "x"), ("绩效科", "不是有效的邮箱地址")),
    (("--to", "jxk＠czj.example.cn", "--from", SENDER, "--eml", "x"), ("全角",)),
    (("--to", BOSS, "--from", SENDER, "--smtp", "127.0.0.1:99999"), ("端口", "99999")),
    (("--to", BOSS, "--from", SENDER, "--smtp", "127.0.0.1", "--ssl", "--starttls"), ("只能选一个",)),
    (("--to", BOSS, "--from", SENDER, "--eml", "x", "--max-size", "0"), ("--max-size",)),
])
def test_usage_mistakes_are_explained(outbox, args, words):
    assert_clean_failure(mail_cli(str(outbox), *args, cwd=outbox.parent), *words)


@pytest.mark.parametrize("toml, words", [
    ('[mail]\nstarttls = "yes"\n', ("starttls", "true 或 false")),
    ('[mail]\nsmpt = "mail.example.cn"\n', ("smpt", "未知的设置项")),
    ('[mail]\npassword = "123456"\n', ("不能保存密码", "PERFEVAL_SMTP_PASSWORD")),
    ('[mail]\nmax_size = -5\n', ("max_size",)),
    ('[mail]\nto = ["jxk@"]\n', ("to", "jxk@")),
    ('[mail\nsmtp = 1\n', ("perfeval.toml", "格式有误")),
])
def test_a_bad_config_file_names_the_field(outbox, tmp_path, toml, words):
    config = tmp_path / "perfeval.toml"
    config.write_text(toml, encoding="utf-8")
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--eml", str(tmp_path / "草稿"), cwd=tmp_path)
    assert_clean_failure(result, *words)
    assert "123456" not in result.stderr or "password" not in toml


# --------------------------------------------------------------------------- drafts and dry run


def test_eml_drafts_have_the_same_parts_as_the_sent_message(outbox, smtp_server, tmp_path):
    drafts = tmp_path / "草稿"
    result = mail_cli(str(outbox), "--to", f"绩效科 <{BOSS}>", "--from", SENDER, "--eml", str(drafts),
                      "--per-unit", password=PASSWORD)
    assert result.returncode == 0, result.stderr
    files = sorted(drafts.glob("*.eml"))
    assert [f.name for f in files] == [
        "01_2024年度项目支出绩效自评评分结果（乌鲁木齐市工商联，2个项目）.eml",
        "02_2024年度项目支出绩效自评评分结果（天山区工商联，1个项目）.eml",
        "03_2024年度项目支出绩效自评评分汇总表（3个项目）.eml",
    ]
    assert not (outbox / "perfeval-mail-log.jsonl").exists()  # drafts are not "sent"
    assert not list(drafts.glob(".perfeval-*"))  # no temporary files left behind

    server = smtp_server()
    assert mail_cli(str(outbox), "--to", f"绩效科 <{BOSS}>", "--from", SENDER, "--smtp", server.address,
                    "--per-unit").returncode == 0
    for path, sent in zip(files, server.handler.parsed()):
        raw = path.read_bytes()
        assert PASSWORD.encode() not in raw
        draft = message_from_bytes(raw, policy=policy.default)
        assert draft["X-Unsent"] == "1"  # Outlook opens it ready to send
        assert draft["Subject"] == sent["Subject"] and draft["To"] == sent["To"] and draft["From"] == sent["From"]
        assert draft.get_body().get_content() == sent.get_body().get_content()
        assert [p.get_content_type() for p in draft.walk()] == [p.get_content_type() for p in sent.walk()]
        assert attachments(draft) == attachments(sent)
        for name, data in attachments(draft).items():
            assert data == (outbox / name).read_bytes()
    for text in (result.stdout, result.stderr):
        assert PASSWORD not in text


def test_dry_run_lists_the_plan_and_sends_nothing(outbox, smtp_server):
    server = smtp_server()
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--dry-run",
                      "--user", USER)
    assert result.returncode == 0, result.stderr
    assert server.messages == [] and log_lines(outbox) == []
    assert "附件 4 个" in result.stdout and A1 in result.stdout and "未发送" in result.stdout


def test_unreadable_file_is_reported_in_the_body_and_not_attached(outbox):
    from perfeval_xlsx.mail import load_batch, plan_messages

    data = json.loads((outbox / "perfeval-batch.json").read_text(encoding="utf-8"))
    data["files"].append({
        "file": "收件箱/某单位扫描件.xlsx", "output": None, "status": "unreadable",
        "project": {"name": None, "department": None, "unit": None, "year": None},
        "findings": [{"code": "E-UNREADABLE", "severity": "error", "sheet": None, "cell": None, "field": None,
                      "value": None, "message": "某单位扫描件.xlsx：不是有效的 Excel 文件。请用 perfeval template 生成的模板重新填写。"}],
        "execution_rate": None, "execution_score": None, "total": None, "grade": None,
    })
    (outbox / "perfeval-batch.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    [message] = plan_messages(load_batch(outbox), sender=SENDER, to=[BOSS]).messages
    assert [a.name for a in message.attachments] == [ROLLUP, A1, A2, B1]
    assert message.subject == "2024年度项目支出绩效自评评分结果（3个项目）"
    assert "无法读取的文件（1 个）" in message.body
    assert "收件箱/某单位扫描件.xlsx" in message.body and "不是有效的 Excel 文件" in message.body
    assert f"平均分：{AVERAGE} 分" in message.body


def test_help_does_not_load_the_mail_module():
    code = ("import sys, perfeval_xlsx.cli; "
            "print(any(m in sys.modules for m in ('perfeval_xlsx.mail', 'smtplib', 'ssl', 'email.message')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
    result = subprocess.run([sys.executable, "-m", "perfeval_xlsx", "mail", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "示例：perfeval mail" in result.stdout


def test_password_comes_from_the_environment_or_a_prompt_only():
    from perfeval_xlsx.mail import MailError, get_password

    prompts: list[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        return "typed-secret"

    assert get_password(USER, "smtp.example.cn:587", environ={"PERFEVAL_SMTP_PASSWORD": "env-secret"},
                        interactive=True, prompt=prompt) == "env-secret"
    assert prompts == []
    assert get_password(USER, "smtp.example.cn:587", environ={}, interactive=True, prompt=prompt) == "typed-secret"
    assert len(prompts) == 1 and USER in prompts[0] and "密码" in prompts[0]
    with pytest.raises(MailError, match="PERFEVAL_SMTP_PASSWORD"):
        get_password(USER, "smtp.example.cn:587", environ={}, interactive=False, prompt=prompt)
    with pytest.raises(MailError, match="没有输入密码"):
        get_password(USER, "smtp.example.cn:587", environ={}, interactive=True, prompt=lambda text: "")


# --------------------------------------------------------------------------- review findings (regressions)


def _set_units(box: Path, units: dict[str, str]) -> None:
    """Rename 实施单位 in perfeval-batch.json (e.g. a name typed with Alt+Enter in Excel)."""
    data = json.loads((box / "perfeval-batch.json").read_text(encoding="utf-8"))
    for entry in data["files"]:
        entry["project"]["unit"] = units.get(entry["project"]["unit"], entry["project"]["unit"])
    (box / "perfeval-batch.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_line_breaks_in_a_unit_name_become_one_space_in_subjects_drafts_and_dry_run(outbox, tmp_path):
    _set_units(outbox, {UNIT_A: "乌鲁木齐市\n工商联", UNIT_B: "天山区\r\n\u2028 工商联\t"})
    # by hand: every run of whitespace / line separators is one space, none at the end
    subject_a = "2024年度项目支出绩效自评评分结果（乌鲁木齐市 工商联，2个项目）"
    subject_b = "2024年度项目支出绩效自评评分结果（天山区 工商联，1个项目）"
    drafts = tmp_path / "草稿"
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--eml", str(drafts), "--per-unit")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    files = sorted(drafts.glob("*.eml"))
    assert [f.name for f in files] == [
        f"01_{subject_a}.eml", f"02_{subject_b}.eml", "03_2024年度项目支出绩效自评评分汇总表（3个项目）.eml",
    ]
    parsed = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert [m["Subject"] for m in parsed[:2]] == [subject_a, subject_b]
    assert list(attachments(parsed[0])) == [A1, A2] and list(attachments(parsed[1])) == [B1]
    assert "实施单位：乌鲁木齐市 工商联，共 2 个项目" in parsed[0].get_body().get_content()

    dry = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--dry-run", "--per-unit")
    assert dry.returncode == 0, dry.stderr
    assert f"主题“{subject_a}”" in dry.stdout and f"主题“{subject_b}”" in dry.stdout


@pytest.mark.parametrize("subject", ["报送\nBcc: evil@x.cn", "报送\u2028结果", "报送\r结果", "报送\t结果"])
def test_a_subject_with_a_line_break_is_a_usage_error(outbox, tmp_path, subject):
    drafts = tmp_path / "草稿"
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--eml", str(drafts), "--subject", subject)
    assert_clean_failure(result, "--subject", "换行符或控制字符", "一行")
    assert not drafts.exists()
    dry = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--dry-run", "--subject", subject)
    assert_clean_failure(dry, "--subject", "换行符或控制字符")


def test_a_config_subject_with_a_line_break_names_the_file(outbox, tmp_path):
    (tmp_path / "perfeval.toml").write_text('[mail]\nsubject = "报送\\nBcc: evil@x.cn"\n', encoding="utf-8")
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--eml", str(tmp_path / "草稿"), cwd=tmp_path)
    assert_clean_failure(result, "perfeval.toml 的 subject", "换行符或控制字符")


def test_plan_messages_makes_a_custom_subject_one_line_and_the_email_package_errors_are_mail_errors(outbox, tmp_path):
    from perfeval_xlsx.mail import MailError, load_batch, plan_messages, send_plan, write_eml
    from perfeval_xlsx.mail.config import SmtpSettings

    plan = plan_messages(load_batch(outbox), sender=SENDER, to=[BOSS], subject="报送\r\n结果\u2028{count}项")
    assert [m.subject for m in plan.messages] == ["报送 结果 3项"]  # 3 readable projects

    # a subject that got past the checks (API use): a MailError in Chinese, never a ValueError
    plan.messages[0].subject = "报送\nBcc: evil@x.cn"
    drafts = tmp_path / "草稿"
    with pytest.raises(MailError, match="无法生成邮件"):
        write_eml(plan, drafts)
    assert list(drafts.glob("*.eml")) == []
    port = free_port()  # nothing listens: the message is refused before any connection is tried
    with pytest.raises(MailError, match="无法生成邮件") as caught:
        send_plan(plan, SmtpSettings("127.0.0.1", port, "plain"))
    assert "连接" not in str(caught.value).split("。")[0]
    assert log_lines(outbox) == []


def test_recipients_separated_by_a_chinese_enumeration_comma_all_receive(outbox, smtp_server):
    server = smtp_server()
    result = mail_cli(str(outbox), "--to", f"绩效科 <{BOSS}>、同事 <{COLLEAGUE}>", "--from", SENDER,
                      "--smtp", server.address)
    assert result.returncode == 0, result.stderr
    [received] = server.messages
    assert received["to"] == [BOSS, COLLEAGUE]
    msg = server.handler.parsed()[0]
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [("绩效科", BOSS), ("同事", COLLEAGUE)]


def test_parse_addresses_takes_full_width_separators_and_keeps_every_address():
    from perfeval_xlsx.mail.config import parse_addresses

    assert parse_addresses(["张三 <a@b.cn>；李四 <c@d.cn>，e@f.cn、g@h.cn"], "--to") == [
        "张三 <a@b.cn>", "李四 <c@d.cn>", "e@f.cn", "g@h.cn",
    ]
    # a separator inside a quoted display name is part of the name
    assert parse_addresses(['"绩效科、预算科" <a@b.cn>'], "--to") == ["绩效科、预算科 <a@b.cn>"]
    assert parse_addresses(['"a@b.cn" <a@b.cn>'], "--to") == ['"a@b.cn" <a@b.cn>']


@pytest.mark.parametrize("option, value, words", [
    ("--to", "张三 <a@b.cn> 李四 <c@d.cn>", ("多个邮箱地址", "逗号")),
    ("--to", "a@b.cn c@d.cn", ("多个邮箱地址", "逗号")),
    ("--cc", "张三 <a@b.cn> c@d.cn", ("多个邮箱地址", "逗号")),
    ("--to", '"绩效科\r\nBcc: evil@x.cn" <a@b.cn>', ("换行符或控制字符", "回车")),
    ("--to", "a@b.cn\nBcc: evil@x.cn", ("换行符或控制字符", "换行")),
    ("--cc", "张三\u2028 <a@b.cn>", ("换行符或控制字符", "U+2028")),
    ("--from", '"财务科\nBcc: evil@x.cn" <cwk@czj.example.cn>', ("发件人", "换行符或控制字符")),
])
def test_addresses_that_would_be_dropped_or_injected_are_refused(outbox, tmp_path, option, value, words):
    drafts = tmp_path / "草稿"
    args = {"--to": BOSS, "--from": SENDER, option: value}
    result = mail_cli(str(outbox), *[x for k, v in args.items() for x in (k, v)], "--eml", str(drafts))
    assert_clean_failure(result, *words)
    assert "evil@x.cn" not in result.stdout
    assert not drafts.exists()


def test_a_config_recipient_holding_two_addresses_is_refused(outbox, tmp_path):
    (tmp_path / "perfeval.toml").write_text('[mail]\nto = ["jxk@czj.cn ysk@czj.cn"]\n', encoding="utf-8")
    result = mail_cli(str(outbox), "--from", SENDER, "--eml", str(tmp_path / "草稿"), cwd=tmp_path)
    assert_clean_failure(result, "perfeval.toml", "to", "多个邮箱地址")


def test_same_named_scored_copies_of_a_recursive_batch_are_named_by_their_folder(tmp_path, smtp_server):
    box = tmp_path / "输出"
    (box / "单位A").mkdir(parents=True)
    (box / "单位B").mkdir()
    _workbook(box / ROLLUP, "汇总")
    _workbook(box / "单位A" / "自评表_评分.xlsx", "单位A的项目", rows=4)
    _workbook(box / "单位B" / "自评表_评分.xlsx", "单位B的项目", rows=9)
    write_batch(box, [
        _entry("单位A", "项目甲", "单位A/自评表_评分.xlsx", "ok", 95.0, "优"),
        _entry("单位B", "项目乙", "单位B/自评表_评分.xlsx", "ok", 85.0, "良"),
    ])
    server = smtp_server()
    args = (str(box), "--to", BOSS, "--from", SENDER, "--smtp", server.address)
    result = mail_cli(*args)
    assert result.returncode == 0, result.stderr
    got = attachments(server.handler.parsed()[0])
    assert list(got) == [ROLLUP, "单位A_自评表_评分.xlsx", "单位B_自评表_评分.xlsx"]
    assert got["单位A_自评表_评分.xlsx"] == (box / "单位A" / "自评表_评分.xlsx").read_bytes()
    assert got["单位B_自评表_评分.xlsx"] == (box / "单位B" / "自评表_评分.xlsx").read_bytes()
    [record] = log_lines(box)
    assert [(a["name"], a["sha256"]) for a in record["attachments"]] == [
        (ROLLUP, sha(box / ROLLUP)),
        ("单位A_自评表_评分.xlsx", sha(box / "单位A" / "自评表_评分.xlsx")),
        ("单位B_自评表_评分.xlsx", sha(box / "单位B" / "自评表_评分.xlsx")),
    ]
    again = mail_cli(*args)  # the record is keyed on those names: nothing new to send
    assert again.returncode == 0, again.stderr
    assert len(server.messages) == 1 and "3 个文件" in again.stdout


def test_attachment_names_stay_unique():
    from perfeval_xlsx.mail import attachment_names

    assert attachment_names(["汇总.xlsx", "单位A/自评表_评分.xlsx", "单位B/自评表_评分.xlsx", "单位C/其他.xlsx"]) == {
        "汇总.xlsx": "汇总.xlsx", "单位A/自评表_评分.xlsx": "单位A_自评表_评分.xlsx",
        "单位B/自评表_评分.xlsx": "单位B_自评表_评分.xlsx", "单位C/其他.xlsx": "其他.xlsx",
    }
    # a top-level file that already has the joined name: the later one gets "_2"
    assert attachment_names(["单位A_表.xlsx", "单位A/表.xlsx", "单位B/表.xlsx"]) == {
        "单位A_表.xlsx": "单位A_表.xlsx", "单位A/表.xlsx": "单位A_表_2.xlsx", "单位B/表.xlsx": "单位B_表.xlsx",
    }
    # names differing only in case collide on Windows
    assert attachment_names(["甲/Report.xlsx", "乙/report.xlsx"]) == {
        "甲/Report.xlsx": "甲_Report.xlsx", "乙/report.xlsx": "乙_report.xlsx",
    }


def test_a_chinese_login_name_is_a_usage_error(outbox, smtp_server):
    server = smtp_server()
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--smtp", server.address, "--user", "张三",
                      password=PASSWORD)
    assert_clean_failure(result, "--user", "张三", "英文字母")
    assert "意外错误" not in result.stderr
    assert server.messages == [] and log_lines(outbox) == []


def test_a_chinese_login_name_given_through_the_api_is_explained(outbox, starttls_server):
    from perfeval_xlsx.mail import MailError, load_batch, plan_messages, send_plan
    from perfeval_xlsx.mail.config import SmtpSettings

    server = starttls_server
    plan = plan_messages(load_batch(outbox), sender=SENDER, to=[BOSS])
    settings = SmtpSettings("127.0.0.1", server.port, "starttls", user="张三", cafile=server.cafile)
    with pytest.raises(MailError) as caught:
        send_plan(plan, settings, PASSWORD)
    text = str(caught.value)
    assert "张三" in text and "英文字母" in text and "--user" in text
    assert "意外错误" not in text and "UnicodeEncodeError" not in text and PASSWORD not in text
    assert server.messages == [] and log_lines(outbox) == []


def test_a_long_subject_gives_a_draft_name_within_the_file_name_limit(outbox, tmp_path):
    from perfeval_xlsx.mail.mime import _safe_file_name

    subject = "报" * 100  # 300 bytes in UTF-8
    drafts = tmp_path / "草稿"
    result = mail_cli(str(outbox), "--to", BOSS, "--from", SENDER, "--eml", str(drafts), "--subject", subject)
    assert result.returncode == 0, result.stderr
    [draft] = drafts.glob("*.eml")
    # by hand: 180 bytes / 3 bytes per character = 60 characters; 3 + 180 + 4 = 187 bytes in all
    assert draft.name == "01_" + "报" * 60 + ".eml"
    assert len(draft.name.encode("utf-8")) == 187
    assert message_from_bytes(draft.read_bytes(), policy=policy.default)["Subject"] == subject  # not cut
    # never inside a character: 1 + 59 * 3 = 178 bytes; one more character would make 181
    assert _safe_file_name("a" + "报" * 100) == "a" + "报" * 59
    assert _safe_file_name("a" * 300) == "a" * 180


@pytest.mark.parametrize("rollup", [ROLLUP, None])
def test_a_batch_with_no_projects_is_refused(tmp_path, rollup):
    from perfeval_xlsx.mail import MailError, load_batch, plan_messages

    box = tmp_path / "输出"
    box.mkdir()
    if rollup:
        _workbook(box / ROLLUP, "空的汇总")
    write_batch(box, [], rollup=rollup)
    with pytest.raises(MailError, match="没有任何项目"):
        plan_messages(load_batch(box), sender=SENDER, to=[BOSS])
    result = mail_cli(str(box), "--to", BOSS, "--from", SENDER, "--dry-run")
    assert_clean_failure(result, "没有任何项目", "perfeval batch")
    assert "0个项目" not in result.stdout


def test_a_batch_whose_files_are_all_unreadable_is_still_sent(tmp_path):
    from perfeval_xlsx.mail import load_batch, plan_messages

    box = tmp_path / "输出"
    box.mkdir()
    _workbook(box / ROLLUP, "汇总")
    unreadable = _entry(UNIT_A, "扫描件", None, "unreadable", None, None,
                        [_finding("E-UNREADABLE", "error", None, "不是有效的 Excel 文件。")], rate=None)
    write_batch(box, [unreadable])
    [message] = plan_messages(load_batch(box), sender=SENDER, to=[BOSS]).messages
    assert [a.name for a in message.attachments] == [ROLLUP]
    assert "无法读取的文件（1 个）" in message.body and f"收件箱/{UNIT_A}_扫描件.xlsx" in message.body
