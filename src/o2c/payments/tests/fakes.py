"""Local stand-ins for Stripe and Adyen: their HTTP API, hosted pages and signed webhooks.

Each fake listens on 127.0.0.1 on a free port and answers the requests the official
SDKs send (the paths, form or JSON bodies and JSON answers of the real APIs, for the
calls o2c makes). Its hosted payment page takes a test card number as a browser would:
4242 4242 4242 4242 pays, 4000 0027 6000 3184 asks for 3-D Secure on a challenge page
first, 4000 0000 0000 0002 is declined. Outcomes are reported as webhooks signed the
way each gateway signs them (Stripe-Signature over "t.payload"; Adyen's HMAC on each
notification item), posted to `webhook_url` when set, else kept in `outbox` for the
test to deliver.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from Adyen import util as adyen_util

CARD_OK = "4242424242424242"
CARD_3DS = "4000002760003184"
CARD_DECLINED = "4000000000000002"


class FakeGateway:
    """A threaded HTTP server with per-gateway routes; start() and stop() it."""

    def __init__(self):
        self.webhook_url: str | None = None
        self.outbox: list[tuple[bytes, dict]] = []
        self.requests: list[tuple[str, str]] = []
        self.idempotent: dict[str, tuple[int, dict]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._dispatch(self, "GET")

            def do_POST(self):
                fake._dispatch(self, "POST")

        return Handler

    def _dispatch(self, handler, method: str):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(handler.path)
        with self.lock:
            self.requests.append((method, parsed.path))
        status, headers, payload = self.route(method, parsed.path, parsed.query, body, handler)
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def route(self, method, path, query, body, handler):
        raise NotImplementedError

    # Helpers -----------------------------------------------------------------------

    @staticmethod
    def json_answer(status: int, data: dict):
        return status, {"Content-Type": "application/json"}, json.dumps(data).encode()

    @staticmethod
    def html_answer(status: int, text: str):
        return status, {"Content-Type": "text/html; charset=utf-8"}, text.encode()

    @staticmethod
    def redirect(location: str):
        return 303, {"Location": location}, b""

    def emit(self, body: bytes, headers: dict) -> None:
        """Post a signed webhook to o2c, or keep it for the test to deliver."""
        if self.webhook_url is None:
            self.outbox.append((body, headers))
            return
        request = urllib.request.Request(
            self.webhook_url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **headers},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def card_page(self, action: str, title: str, amount_text: str, error: str = "") -> str:
        message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        return (
            f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1><p>Amount: {html.escape(amount_text)}</p>{message}"
            f'<form method="post" action="{action}">'
            '<label>Card number <input name="card" id="card-number"></label>'
            '<button type="submit" id="submit-card">Pay</button></form></body></html>'
        )

    def challenge_page(self, action: str) -> str:
        return (
            "<!doctype html><html><head><title>3-D Secure</title></head><body>"
            "<h1>Confirm with your bank</h1>"
            f'<form method="post" action="{action}">'
            '<button type="submit" name="result" value="pass" id="authenticate">Authenticate'
            "</button>"
            '<button type="submit" name="result" value="fail" id="fail-authentication">Fail'
            "</button></form></body></html>"
        )

    def submit_card(self, page_path: str, card: str, *, authenticate: bool = True) -> str:
        """Act as a browser on the hosted page; return where the payer is sent back to."""
        opener = urllib.request.build_opener(_NoRedirect)
        data = urllib.parse.urlencode({"card": card}).encode()
        location = self._post(opener, f"{self.url}{page_path}", data)
        if location and location.startswith(f"{self.url}/3ds/"):
            result = urllib.parse.urlencode({"result": "pass" if authenticate else "fail"})
            location = self._post(opener, location, result.encode())
        return location

    @staticmethod
    def _post(opener, url: str, data: bytes) -> str:
        try:
            with opener.open(urllib.request.Request(url, data=data, method="POST")) as answer:
                answer.read()
                return ""
        except urllib.error.HTTPError as redirect:
            return redirect.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _form(body: bytes) -> dict[str, str]:
    return {key: values[-1] for key, values in urllib.parse.parse_qs(body.decode()).items()}


class FakeStripe(FakeGateway):
    """Stripe's v1 API for Checkout Sessions, payment intents and refunds."""

    FEE_PERCENT = 1.5
    FEE_FIXED = 25

    def __init__(self, *, secret_key: str, webhook_secret: str):
        super().__init__()
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.sessions: dict[str, dict] = {}
        self.intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.events: list[dict] = []

    def route(self, method, path, query, body, handler):
        if path.startswith("/v1/"):
            if handler.headers.get("Authorization") != f"Bearer {self.secret_key}":
                return self.json_answer(
                    401,
                    {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}},
                )
            key = handler.headers.get("Idempotency-Key")
            if method == "POST" and key and key in self.idempotent:
                return self.json_answer(*self.idempotent[key])
            status, data = self.api(method, path, _form(body) if method == "POST" else {}, query)
            if method == "POST" and key:
                self.idempotent[key] = (status, data)
            return self.json_answer(status, data)
        parts = path.strip("/").split("/")
        if parts[0] == "pay" and len(parts) == 2 and parts[1] in self.sessions:
            return self.hosted_page(method, parts[1], _form(body))
        if parts[0] == "3ds" and len(parts) == 2 and parts[1] in self.sessions:
            return self.challenge(method, parts[1], _form(body))
        return self.json_answer(404, {"error": {"message": f"no route {path}"}})

    # API ---------------------------------------------------------------------------

    def api(self, method, path, form, query):
        parts = path.strip("/").split("/")[1:]
        if parts == ["checkout", "sessions"] and method == "POST":
            return 200, self.create_session(form)
        if parts[:2] == ["checkout", "sessions"] and len(parts) == 3 and method == "GET":
            session = self.sessions.get(parts[2])
            return (200, session) if session else (404, {"error": {"message": "no session"}})
        if parts[0] == "payment_intents" and len(parts) == 2 and method == "GET":
            intent = self.intents.get(parts[1])
            if intent is None:
                return 404, {"error": {"message": "no such payment intent"}}
            return 200, self.expanded_intent(intent, urllib.parse.parse_qs(query))
        if parts == ["refunds"] and method == "POST":
            return self.create_refund(form)
        return 404, {"error": {"message": f"unsupported {method} {path}"}}

    def create_session(self, form: dict) -> dict:
        session_id = f"cs_test_{secrets.token_hex(12)}"
        total, index, names = 0, 0, []
        currency = ""
        while f"line_items[{index}][price_data][unit_amount]" in form:
            prefix = f"line_items[{index}]"
            quantity = int(form.get(f"{prefix}[quantity]", "1"))
            total += int(form[f"{prefix}[price_data][unit_amount]"]) * quantity
            currency = form[f"{prefix}[price_data][currency]"]
            names.append(form.get(f"{prefix}[price_data][product_data][name]", ""))
            index += 1
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{self.url}/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total,
            "currency": currency,
            "client_reference_id": form.get("client_reference_id"),
            "customer_email": form.get("customer_email"),
            "locale": form.get("locale"),
            "metadata": {"o2c_payment": form.get("metadata[o2c_payment]", "")},
            "intent_metadata": {
                "o2c_payment": form.get("payment_intent_data[metadata][o2c_payment]", "")
            },
            "payment_intent": None,
            "success_url": form["success_url"],
            "cancel_url": form["cancel_url"],
            "line_item_names": names,
            "livemode": False,
        }
        self.sessions[session_id] = session
        return self.public_session(session)

    @staticmethod
    def public_session(session: dict) -> dict:
        return {
            key: value
            for key, value in session.items()
            if key not in ("intent_metadata", "line_item_names")
        }

    def expanded_intent(self, intent: dict, query: dict) -> dict:
        data = dict(intent)
        expand = query.get("expand[]", []) + query.get("expand[0]", [])
        if "latest_charge.balance_transaction" in expand:
            data["latest_charge"] = {
                "id": intent["latest_charge"],
                "object": "charge",
                "balance_transaction": intent["balance_transaction"],
            }
        data.pop("balance_transaction", None)
        return data

    def create_refund(self, form: dict):
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return 404, {"error": {"message": "no such payment intent"}}
        amount = int(form.get("amount") or intent["amount_received"])
        if amount > intent["amount_received"] - intent["amount_refunded"]:
            return 400, {"error": {"type": "invalid_request_error", "message": "too much"}}
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_{secrets.token_hex(10)}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "metadata": {
                key[len("metadata[") : -1]: value
                for key, value in form.items()
                if key.startswith("metadata[")
            },
        }
        self.refunds[refund["id"]] = refund
        self.send_event("refund.created", refund)
        return 200, refund

    # Hosted page -------------------------------------------------------------------

    def hosted_page(self, method, session_id, form):
        session = self.sessions[session_id]
        amount_text = f"{session['amount_total']} {session['currency']}"
        action = f"/pay/{session_id}"
        if method == "GET" or session["status"] != "open":
            return self.html_answer(200, self.card_page(action, "Stripe Checkout", amount_text))
        card = form.get("card", "").replace(" ", "")
        if card == CARD_3DS:
            session["pending_card"] = card
            return self.redirect(f"{self.url}/3ds/{session_id}")
        if card != CARD_OK:
            self.fail_attempt(session, "Your card was declined.")
            return self.html_answer(
                402,
                self.card_page(action, "Stripe Checkout", amount_text, "Your card was declined."),
            )
        return self.redirect(self.complete(session))

    def challenge(self, method, session_id, form):
        session = self.sessions[session_id]
        if method == "GET":
            return self.html_answer(200, self.challenge_page(f"/3ds/{session_id}"))
        if form.get("result") != "pass":
            message = "We are unable to authenticate your payment method."
            self.fail_attempt(session, message)
            return self.html_answer(
                402,
                self.card_page(
                    f"/pay/{session_id}",
                    "Stripe Checkout",
                    f"{session['amount_total']} {session['currency']}",
                    message,
                ),
            )
        return self.redirect(self.complete(session))

    def fail_attempt(self, session: dict, message: str) -> None:
        intent = self.intent_for(session)
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {"message": message}
        self.send_event("payment_intent.payment_failed", intent)

    def intent_for(self, session: dict) -> dict:
        if session["payment_intent"] is None:
            intent_id = f"pi_{secrets.token_hex(12)}"
            session["payment_intent"] = intent_id
            self.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": 0,
                "amount_refunded": 0,
                "currency": session["currency"],
                "status": "requires_payment_method",
                "metadata": session["intent_metadata"],
                "latest_charge": None,
                "balance_transaction": None,
            }
        return self.intents[session["payment_intent"]]

    def complete(self, session: dict) -> str:
        intent = self.intent_for(session)
        amount = session["amount_total"]
        fee = round(amount * self.FEE_PERCENT / 100) + self.FEE_FIXED
        intent.update(
            status="succeeded",
            amount_received=amount,
            latest_charge=f"ch_{secrets.token_hex(12)}",
            balance_transaction={
                "id": f"txn_{secrets.token_hex(12)}",
                "object": "balance_transaction",
                "amount": amount,
                "fee": fee,
                "net": amount - fee,
                "currency": session["currency"],
            },
            last_payment_error=None,
        )
        session.update(status="complete", payment_status="paid")
        self.send_event("checkout.session.completed", self.public_session(session))
        self.send_event("payment_intent.succeeded", self.expanded_intent(intent, {}))
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])

    def expire(self, session_id: str) -> None:
        session = self.sessions[session_id]
        session["status"] = "expired"
        self.send_event("checkout.session.expired", self.public_session(session))

    def dispute(self, intent_id: str) -> None:
        intent = self.intents[intent_id]
        self.send_event(
            "charge.dispute.funds_withdrawn",
            {
                "id": f"dp_{secrets.token_hex(8)}",
                "object": "dispute",
                "amount": intent["amount_received"],
                "currency": intent["currency"],
                "charge": intent["latest_charge"],
                "payment_intent": intent_id,
                "reason": "fraudulent",
            },
        )

    # Events ------------------------------------------------------------------------

    def event(self, event_type: str, data: dict) -> dict:
        return {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": data},
        }

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        timestamp = timestamp or int(time.time())
        signed = f"{timestamp}.".encode() + body
        digest = hmac.new(self.webhook_secret.encode(), signed, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    def send_event(self, event_type: str, data: dict) -> None:
        event = self.event(event_type, data)
        self.events.append(event)
        body = json.dumps(event).encode()
        self.emit(body, {"Stripe-Signature": self.sign(body)})


class FakeAdyen(FakeGateway):
    """Adyen's Checkout API for hosted sessions and refunds, with HMAC notifications."""

    def __init__(self, *, api_key: str, hmac_key: str, merchant_account: str):
        super().__init__()
        self.api_key = api_key
        self.hmac_key = hmac_key
        self.merchant_account = merchant_account
        self.sessions: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}

    def route(self, method, path, query, body, handler):
        parts = path.strip("/").split("/")
        if parts[0].startswith("v") and parts[0][1:].isdigit():
            if handler.headers.get("X-API-Key") != self.api_key:
                return self.json_answer(
                    401, {"status": 401, "errorCode": "000", "message": "HTTP Status Response"}
                )
            key = handler.headers.get("Idempotency-Key")
            if method == "POST" and key and key in self.idempotent:
                return self.json_answer(*self.idempotent[key])
            data = json.loads(body) if body else {}
            status, answer = self.api(method, parts[1:], data, urllib.parse.parse_qs(query))
            if method == "POST" and key:
                self.idempotent[key] = (status, answer)
            return self.json_answer(status, answer)
        if parts[0] == "checkoutshopper" and len(parts) == 2 and parts[1] in self.sessions:
            return self.hosted_page(method, parts[1], _form(body))
        if parts[0] == "3ds" and len(parts) == 2 and parts[1] in self.sessions:
            return self.challenge(method, parts[1], _form(body))
        return self.json_answer(404, {"status": 404, "message": f"no route {path}"})

    def api(self, method, parts, data, query):
        if parts == ["sessions"] and method == "POST":
            if data.get("merchantAccount") != self.merchant_account:
                return 403, {"status": 403, "errorCode": "901", "message": "Invalid Merchant"}
            session_id = f"CS{secrets.token_hex(10).upper()}"
            session = {
                **data,
                "id": session_id,
                "sessionData": secrets.token_urlsafe(24),
                "url": f"{self.url}/checkoutshopper/{session_id}",
                "status": "active",
                "result": "",
            }
            self.sessions[session_id] = session
            return 201, {
                key: session[key]
                for key in (
                    "id",
                    "sessionData",
                    "url",
                    "amount",
                    "reference",
                    "returnUrl",
                    "merchantAccount",
                    "expiresAt",
                    "mode",
                )
                if key in session
            }
        if parts[0] == "sessions" and len(parts) == 2 and method == "GET":
            session = self.sessions.get(parts[1])
            if session is None or query.get("sessionResult", [""])[0] != session["result"]:
                return 422, {"status": 422, "errorCode": "14_0", "message": "Invalid result"}
            return 200, {"id": session["id"], "status": session["status"]}
        if parts[0] == "payments" and len(parts) == 3 and parts[2] == "refunds":
            payment = self.payments.get(parts[1])
            if payment is None:
                return 422, {"status": 422, "errorCode": "167", "message": "Original unknown"}
            refund_psp = secrets.token_hex(8).upper()
            answer = {
                "merchantAccount": data["merchantAccount"],
                "paymentPspReference": parts[1],
                "pspReference": refund_psp,
                "reference": data.get("reference", ""),
                "status": "received",
                "amount": data["amount"],
            }
            self.notify(
                "REFUND",
                psp=refund_psp,
                original=parts[1],
                reference=data.get("reference", ""),
                amount=data["amount"],
                success=True,
            )
            return 201, answer
        return 404, {"status": 404, "message": "unsupported"}

    def hosted_page(self, method, session_id, form):
        session = self.sessions[session_id]
        amount = session["amount"]
        amount_text = f"{amount['value']} {amount['currency']}"
        action = f"/checkoutshopper/{session_id}"
        if method == "GET" or session["status"] != "active":
            return self.html_answer(200, self.card_page(action, "Adyen Checkout", amount_text))
        card = form.get("card", "").replace(" ", "")
        if card == CARD_3DS:
            return self.redirect(f"{self.url}/3ds/{session_id}")
        if card != CARD_OK:
            self.notify(
                "AUTHORISATION",
                psp=secrets.token_hex(8).upper(),
                reference=session["reference"],
                amount=amount,
                success=False,
                reason="Refused",
            )
            return self.html_answer(
                402, self.card_page(action, "Adyen Checkout", amount_text, "Refused")
            )
        return self.redirect(self.complete(session))

    def challenge(self, method, session_id, form):
        session = self.sessions[session_id]
        if method == "GET":
            return self.html_answer(200, self.challenge_page(f"/3ds/{session_id}"))
        if form.get("result") != "pass":
            self.notify(
                "AUTHORISATION",
                psp=secrets.token_hex(8).upper(),
                reference=session["reference"],
                amount=session["amount"],
                success=False,
                reason="3D Not Authenticated",
            )
            return self.html_answer(
                402,
                self.card_page(
                    f"/checkoutshopper/{session_id}", "Adyen Checkout", "", "3D Not Authenticated"
                ),
            )
        return self.redirect(self.complete(session))

    def complete(self, session: dict) -> str:
        psp = secrets.token_hex(8).upper()
        self.payments[psp] = {"reference": session["reference"], "amount": session["amount"]}
        session["status"] = "completed"
        session["result"] = secrets.token_urlsafe(16)
        session["psp"] = psp
        self.notify(
            "AUTHORISATION",
            psp=psp,
            reference=session["reference"],
            amount=session["amount"],
            success=True,
        )
        query = urllib.parse.urlencode(
            {"sessionId": session["id"], "sessionResult": session["result"]}
        )
        return f"{session['returnUrl']}?{query}"

    def chargeback(self, psp: str) -> None:
        payment = self.payments[psp]
        self.notify(
            "CHARGEBACK",
            psp=secrets.token_hex(8).upper(),
            original=psp,
            reference=payment["reference"],
            amount=payment["amount"],
            success=True,
            reason="Fraud",
        )

    def item(self, code, *, psp, amount, success, reference="", original="", reason=""):
        item = {
            "additionalData": {},
            "amount": dict(amount),
            "eventCode": code,
            "eventDate": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            "merchantAccountCode": self.merchant_account,
            "merchantReference": reference,
            "pspReference": psp,
            "paymentMethod": "visa",
            "reason": reason,
            "success": "true" if success else "false",
        }
        if original:
            item["originalReference"] = original
        signature = adyen_util.generate_notification_sig(item, self.hmac_key)
        item["additionalData"] = {"hmacSignature": signature.decode()}
        return item

    def notify(self, code, **fields) -> None:
        body = json.dumps(
            {
                "live": "false",
                "notificationItems": [{"NotificationRequestItem": self.item(code, **fields)}],
            }
        ).encode()
        self.emit(body, {})
