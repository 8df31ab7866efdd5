"""
``manage.py bench_transition <application_id> <move>``: one state-machine move by a staff account,
for the multi-process tests (two of these race from two processes against one database).

``--at EPOCH`` waits until that wall-clock time before moving, so racers start together.
Prints one JSON line ``{"ok": bool, "status": int | null, "error": str}``; exits 0 when the
move happened and 3 when the state machine refused it.
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from shanqian.errors import ApiError
from shanqian.models import AdminUser
from signing.models import SignApplication
from signing.services import applications as services

MOVES = ("reject", "cancel")


class Command(BaseCommand):
    help = "以后台账号执行一次签约申请状态变更（多进程测试用）。"

    def add_arguments(self, parser):
        parser.add_argument("application_id", type=int)
        parser.add_argument("move", choices=MOVES)
        parser.add_argument("--staff", default="admin", help="后台账号用户名（默认 admin）")
        parser.add_argument("--at", type=float, default=0.0, help="等到这个 Unix 时间再执行")

    def handle(self, *args, application_id, move, staff, at, **options):
        try:
            actor = AdminUser.objects.get(username=staff)
            application = SignApplication.objects.get(pk=application_id)
        except (AdminUser.DoesNotExist, SignApplication.DoesNotExist) as exc:
            raise CommandError(str(exc)) from None
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        try:
            if move == "reject":
                done = services.application_reject(application=application, staff=actor, reason="并发测试驳回")
            else:
                done = services.application_cancel(application=application, actor_staff=actor, note="并发测试取消")
        except ApiError as exc:
            self.stdout.write(json.dumps({"ok": False, "status": None, "error": exc.__class__.__name__}))
            raise SystemExit(3) from None
        self.stdout.write(json.dumps({"ok": True, "status": done.status, "error": ""}))
