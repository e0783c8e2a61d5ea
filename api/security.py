"""Security headers on every answer, `Secure` cookies over HTTPS, and the client address behind proxies.

The policy is strict: scripts, styles, images and fonts from the app itself (server-rendered pages vendor
their JavaScript and CSS and carry no inline script), images also as data: URIs (the docs' icons), no
plugins, no framing by another site, forms only to the app. Answers are not stored by browsers or proxies
unless a view says otherwise (attachments set their own caching).
"""
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HSTS = "max-age=31536000"


def register(app, https: bool, proxy_hops: int) -> None:
    """Add the headers to every answer; over HTTPS also HSTS and Secure cookies; trust `proxy_hops` proxies."""
    app.config.update(SESSION_COOKIE_SECURE=https, SESSION_COOKIE_HTTPONLY=True)
    if proxy_hops:
        # the address and scheme the nearest `proxy_hops` proxies saw; anything further out is the client's word
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxy_hops, x_proto=proxy_hops, x_host=0, x_prefix=0)

    @app.after_request
    def secure(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
