"""Send a batch upward by email: plan the messages, build them, write .eml drafts or send by SMTP.

Input is what `perfeval batch` leaves in its OUTBOX folder: ``perfeval-batch.json`` (the
results), the roll-up workbook and one scored copy per form. Everything here works on plain
data, so it is usable without the command line::

    batch = load_batch("输出")
    plan = plan_messages(batch, sender="cwk@example.cn", to=["jxk@example.cn"], per_unit=True)
    write_eml(plan, "草稿")                       # or:
    send_plan(plan, SmtpSettings("smtp.example.cn", 587, "starttls", user="cwk@example.cn"), password)

Each message accepted by the server is recorded in ``OUTBOX/perfeval-mail-log.jsonl`` (time,
recipients, subject, attachment names and SHA-256), and a later run leaves out the files
already accepted for the same recipients (unless ``resend=True``).

Attachment names are Chinese: each attachment carries the RFC 2231 parameter
``filename*=utf-8''…`` (Content-Disposition) and, for clients that do not read RFC 2231, the
RFC 2047 encoded word ``name="=?utf-8?b?…?="`` (Content-Type) — as Thunderbird writes them.
"""

from perfeval_xlsx.errors import MailError
from perfeval_xlsx.mail.batchfile import Batch, Project, load_batch
from perfeval_xlsx.mail.log import append_mail_log, read_mail_log, sent_index
from perfeval_xlsx.mail.mime import build_message, message_bytes, write_eml
from perfeval_xlsx.mail.plan import Attachment, MailPlan, PlannedMessage, attachment_names, plan_messages
from perfeval_xlsx.mail.smtp import SentMessage, get_password, send_plan

__all__ = ["Attachment", "Batch", "MailError", "MailPlan", "PlannedMessage", "Project", "SentMessage",
           "append_mail_log", "attachment_names", "build_message", "get_password", "load_batch",
           "message_bytes", "plan_messages", "read_mail_log", "send_plan", "sent_index", "write_eml"]
