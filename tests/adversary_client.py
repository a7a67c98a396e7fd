"""A vendor's client written from the docs alone (README.md, docs/wire-contract.md,
docs/results.md), with switches that make it misbehave in one way each, or speak one of
the documented spellings. Run as `python tests/adversary_client.py MODE[,MODE...]`.

Modes that should fail: silent, kvittering-once, stop-after-first-update, no-documents,
no-answer, old-saksnummer, drop-unknown, hammer, ignore-retry-after, wrong-id,
answer-twice, exit-nonzero, exit-late-nonzero, hang, parallel.
status-only (and bogus-ref, head-documents with it), refused-answer,
unknown-saksnummer-answer, hang-early.
Modes that should pass: (none: the baseline), path-case, header-case, xml, mangel-id,
pascal, no-cursor, resend, v2-body, split-answers, ig-json, ig-json-ref.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any
from xml.sax.saxutils import escape

import requests

MODES = set(filter(None, (sys.argv[1] if len(sys.argv) > 1 else "").split(",")))
API = os.environ["BYGGESAK_API_BASE_URL"]
AUTH = (os.environ["BYGGESAK_USERNAME"], os.environ["BYGGESAK_PASSWORD"])
REFS = [r for r in os.environ.get("BYGGESAK_INNSENDINGSREFERANSER", "").split(",") if r]
OWN = json.loads(os.environ.get("BYGGESAK_CLIENT_INNSENDINGER") or "[]")
INTERVAL = float(os.environ.get("BYGGESAK_POLL_INTERVAL", "0.25"))
MAX = float(os.environ.get("BYGGESAK_MAX_SECONDS", "300"))
START = time.monotonic()
S = requests.Session()


def log(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def path(name: str) -> str:
    if "path-case" in MODES:
        return "/" + name[:1].upper() + name[1:]
    return "/" + name


def call(method: str, url: str, **kw: Any) -> requests.Response:
    headers = kw.pop("headers", {})
    if "header-case" in MODES:
        headers = {k.lower(): v for k, v in headers.items()}
        headers["accept"] = "application/json"
    if "buster" in MODES and method == "GET" and "params" in kw:
        kw["params"] = {**kw["params"], "_": str(time.time_ns())}  # a cache-buster
    while True:
        r = S.request(method, url, auth=AUTH, headers=headers, timeout=30, **kw)
        if r.status_code in (429, 503) and "ignore-retry-after" not in MODES:
            time.sleep(float(r.headers.get("Retry-After", "1")))
            continue
        if r.status_code in (429, 503):
            time.sleep(0.01)
            continue
        return r


def sleep() -> None:
    time.sleep(0.02 if "hammer" in MODES else INTERVAL)


class Ref:
    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.kvittering: dict[str, Any] | None = None
        self.last = 0
        self.seen: set[str] = set()
        self.saksnummer: dict[str, str] | None = None
        self.vedtak = False
        self.docs: set[str] = set()
        self.fetched: set[str] = set()
        self.open: dict[str, dict[str, Any]] = {}
        self.vilkaar: list[dict[str, Any]] = []
        self.updates = 0


STATE = {r: Ref(r) for r in (REFS[:1] if "first-ref-only" in MODES else REFS)}
IG_SENT = False


def poll(st: Ref) -> None:
    global IG_SENT
    if st.kvittering is None:
        r = call("GET", API + path("kvittering"), params={"innsendingReferanse": st.ref})
        if r.status_code == 200:
            st.kvittering = r.json()
            if st.saksnummer is None:
                st.saksnummer = st.kvittering["saksnummer"]
            if "kvittering-once" in MODES:
                log("got kvittering, leaving")
                sys.exit(0)
        return
    if "status-only" in MODES:
        poll_status(st)
        if st.vilkaar and st.vedtak and OWN and not IG_SENT:
            send_ig(st)
            IG_SENT = True
        return
    params = {"innsendingReferanse": st.ref}
    if "no-cursor" not in MODES:
        params["etter"] = str(st.last)
    if "parallel" in MODES:
        # Two workers of the client poll the same reference at the same moment.
        import threading

        twin = threading.Thread(
            target=lambda: requests.get(API + path("oppdatering"), params=params, auth=AUTH)
        )
        twin.start()
        r = call("GET", API + path("oppdatering"), params=params)
        twin.join()
    else:
        r = call("GET", API + path("oppdatering"), params=params)
    if r.status_code != 200:
        return
    for item in r.json():
        seq = item["sekvensnummer"]
        if seq in st.seen:
            continue
        st.seen.add(seq)
        st.last = max(st.last, int(seq))
        if "drop-unknown" in MODES and "nyttFeltFraDiBK" in item:
            log("dropping oppdatering with unknown field", seq)
            continue
        st.updates += 1
        nokkel = item.get("nokkelinfo") or {}
        if "saksnummer" in nokkel and "old-saksnummer" not in MODES:
            st.saksnummer = nokkel["saksnummer"]
        for doc in item.get("utgaaendeDokument") or []:
            if doc.get("dokumentUrl"):
                st.docs.add(doc["dokumentUrl"])
        for u in item.get("utfall") or []:
            kind = (u.get("utfallType") or {}).get("kodeverdi")
            if u.get("mangelID") or kind == "MG":
                st.open[u.get("utfallId") or u["mangelID"]] = u
            elif kind in ("SVV", "MKV"):
                st.vilkaar.append(u)
        if item.get("vedtak"):
            st.vedtak = True
        if "stop-after-first-update" in MODES:
            log("one oppdatering is enough")
            sys.exit(0)
    if st.open and "no-answer" not in MODES:
        answer(st)
    if "no-documents" not in MODES:
        for url in sorted(st.docs - st.fetched):
            d = call(
                "HEAD" if "head-documents" in MODES else "GET",
                url.replace("/dokument/", path("dokument") + "/"),
            )
            if d.status_code == 200:
                st.fetched.add(url)
    if st.vilkaar and OWN and not IG_SENT:
        send_ig(st)
        IG_SENT = True


def poll_status(st: Ref) -> None:
    # It asks for oppdateringer in a way that can deliver none (a cursor past them all, or
    # a reference that does not exist) and reads everything from the status view instead.
    if "bogus-ref" in MODES:
        call("GET", API + path("oppdatering"), params={"innsendingReferanse": "AR00000000"})
    else:
        call(
            "GET",
            API + path("oppdatering"),
            params={"innsendingReferanse": st.ref, "etter": "999999"},
        )
    r = call("GET", API + path("status"), params={"innsendingReferanse": st.ref})
    if r.status_code != 200:
        return
    view = r.json()
    if view.get("saksnummer"):
        st.saksnummer = view["saksnummer"]
    for doc in view.get("utgaaendeDokument") or []:
        if doc.get("dokumentUrl"):
            st.docs.add(doc["dokumentUrl"])
    answered = getattr(st, "answered", set())
    for u in view.get("utfall") or []:
        if u.get("status") == "aapen" and u["utfallId"] not in answered:
            kind = (u.get("utfallType") or {}).get("kodeverdi")
            if kind in ("SVV", "MKV"):
                if u not in st.vilkaar:
                    st.vilkaar.append(u)
            else:
                st.open[u["utfallId"]] = u
                answered.add(u["utfallId"])
    st.answered = answered  # type: ignore[attr-defined]
    # Only status-only takes the vedtak from the status view: any other mode is done once
    # an oppdatering has brought it (else, when the vedtak fires between its oppdatering
    # and its status poll, it would leave without fetching it, and rightly fail).
    if view.get("vedtak") and "status-only" in MODES:
        st.vedtak = True
    if st.open:
        answer(st)
    for url in sorted(st.docs - st.fetched):
        d = call("HEAD" if "head-documents" in MODES else "GET", url)
        if d.status_code == 200:
            st.fetched.add(url)


def saksnummer_json(st: Ref) -> dict[str, Any]:
    assert st.saksnummer
    return {
        "saksaar": st.saksnummer["saksaar"],
        "sakssekvensnummer": st.saksnummer["sakssekvensnummer"],
    }


def pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def post_supplering(st: Ref, ids: list[str], comment: str = "Vedlagt.") -> requests.Response:
    url = API + path("supplering")
    if "xml" in MODES:
        assert st.saksnummer
        flags = (
            ""  # neither flag: DiBK's test data has such an answer; it answers
            if "no-flags" in MODES
            else "<erUtfallBesvaresSenere>false</erUtfallBesvaresSenere><erUtfallBesvart>true</erUtfallBesvart>"
        )
        svar = "".join(
            f"<utfallSvar><utfallId>{escape(i)}</utfallId>{flags}"
            f"<kommentar>{escape(comment)}</kommentar></utfallSvar>"
            for i in ids
        )
        body = (
            '<suppleringAvSoeknad xmlns="https://skjema.ft.dibk.no/suppleringavsoeknad/v2" '
            'dataFormatProvider="DIBK" dataFormatId="10008" dataFormatVersion="2">'
            f"<kommunensSaksnummer><saksaar>{st.saksnummer['saksaar']}</saksaar>"
            f"<sakssekvensnummer>{st.saksnummer['sakssekvensnummer']}</sakssekvensnummer>"
            f"</kommunensSaksnummer><utfallBesvarelse>{svar}</utfallBesvarelse></suppleringAvSoeknad>"
        )
        headers = {"Content-Type": "application/xml"}
        return call("POST", url, data=body.encode(), headers=headers)
    payload: dict[str, Any]
    if "v2-body" in MODES:
        payload = {
            "kommunensSaksnummer": saksnummer_json(st),
            "utfallBesvarelse": {
                "utfallSvar": [
                    {"utfallId": i, "erUtfallBesvart": True, "kommentar": comment} for i in ids
                ]
            },
        }
    else:
        key = "mangelId" if "mangel-id" in MODES else "mangelID"
        payload = {
            "innsendingReferanse": st.ref,
            "kommunensSaksnummer": saksnummer_json(st),
            "mangelbesvarelse": [{key: i, "kommentar": comment, "vedlegg": []} for i in ids],
        }
    if "refused-answer" in MODES:
        payload["ettersending"] = [
            {"tema": "ukjentTema", "tittel": "x", "kommentar": "x", "vedleggsliste": []}
        ]
    if "unknown-saksnummer-answer" in MODES:
        payload["kommunensSaksnummer"] = {"saksaar": "1999", "sakssekvensnummer": "424242"}
    if "pascal" in MODES:
        payload = pascal(payload)
    data = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    return call("POST", url, data=data, headers=headers)


def answer(st: Ref) -> None:
    ids = sorted(st.open)
    if "wrong-id" in MODES:
        ids = ["00000000-0000-4000-8000-000000000000"]
    groups = [[i] for i in ids] if "split-answers" in MODES else [ids]
    for group in groups:
        r = post_supplering(st, group)
        log("supplering", r.status_code, r.text[:300])
        if "hang-early" in MODES:
            log("hanging after the answer")
            time.sleep(10_000)
        if "resend" in MODES:
            r2 = post_supplering(st, group)
            log("resent", r2.status_code, r2.headers.get("X-Sandbox-Gjentatt-Fra"))
        if "answer-twice" in MODES:
            r3 = post_supplering(st, group, comment="Vedlagt, igjen.")
            log("answered again", r3.status_code, r3.text[:200])
    st.open.clear()


def send_ig(st: Ref) -> None:
    spec = OWN[0]
    svar = [
        {
            "utfallId": u["utfallId"],
            "utfallType": {"kodeverdi": u["utfallType"]["kodeverdi"]},
            # ig-later: declares them answered later, and never answers them for real.
            ("erUtfallBesvaresSenere" if "ig-later" in MODES else "erUtfallBesvart"): True,
            "kommentar": "Ok.",
        }
        for u in st.vilkaar
    ]
    body: dict[str, Any] = {
        "soknadstype": spec.get("soknadstype", "IG"),
        "tiltakstype": spec.get("tiltakstype", ["nyttbyggboligformal"]),
        "tittel": spec.get("tittel", "IG"),
        "dokumenter": spec.get("dokumenter")
        or [
            {
                "dokumentNavn": "Skjema.pdf",
                "mimeType": "application/pdf",
                "dokumentStorrelse": "90000",
            }
        ],
        "utfallBesvarelse": {"utfallSvar": svar},
    }
    if "ig-json-ref" in MODES:
        body["innsendingReferanse"] = st.ref
    else:
        body["kommunensSaksnummer"] = saksnummer_json(st)
    if "pascal" in MODES:
        body = pascal(body)
    r = call("POST", API + path("innsending"), json=body)
    log("IG", r.status_code, r.text[:300])
    if r.status_code == 201:
        new = r.json()["innsendingReferanse"]
        STATE[new] = Ref(new)


def done() -> bool:
    if OWN and not IG_SENT:
        return False
    return all(
        st.vedtak and (st.docs <= st.fetched or "no-documents" in MODES) for st in STATE.values()
    )


def main() -> int:
    log("modes", sorted(MODES), "refs", REFS, "own", OWN)
    if "silent" in MODES:
        return 0
    while time.monotonic() - START < MAX - 5:
        for st in list(STATE.values()):
            poll(st)
            sleep()
        if done() and "poll-forever" not in MODES:
            break
    if "hang" in MODES:
        log("hanging")
        time.sleep(10_000)
    if "exit-late-nonzero" in MODES:
        for _look in range(2):  # one last look, twice: a repeated poll the runner knows
            time.sleep(INTERVAL)
            for st in STATE.values():
                call(
                    "GET",
                    API + path("oppdatering"),
                    params={"innsendingReferanse": st.ref, "etter": str(st.last)},
                )
        time.sleep(6)  # the runner has seen the last step by now: it waits for the exit
        log("failing at the very end")
        return 3
    return 3 if "exit-nonzero" in MODES else 0


if __name__ == "__main__":
    sys.exit(main())
