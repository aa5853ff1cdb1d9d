"""Error pages in Chinese for the site, JSON for the API."""

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db

MESSAGES = {
    400: "请求无效",
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持该请求方法",
    409: "操作冲突",
    413: "上传的文件太大",
    429: "请求过于频繁",
    500: "服务器内部错误，请稍后再试",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, message: str | None = None, errors: dict | None = None):
    message = message or MESSAGES.get(status, "出错了")
    if _wants_json():
        body = {"error": MESSAGES.get(status, "error"), "message": message}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    for status in MESSAGES:
        app.register_error_handler(status, lambda e, s=status: render_error(s))

    @app.errorhandler(500)
    def server_error(e):
        # A failed statement leaves the transaction aborted; the error page must not reuse it.
        db.session.rollback()
        return render_error(500)

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render_error(400, "页面已过期或缺少安全令牌（CSRF），请刷新后重试")

    @app.errorhandler(ServiceError)
    def service_error(e: ServiceError):
        return render_error(e.status, e.message, e.errors)
