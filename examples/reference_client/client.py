"""A reference søknadssystem client for DiBK's saksbehandlingsdata, written to DiBK's documentation.

It follows its innsendinger by innsendingReferanse, the only documented way:

- fetch the kvittering (``GET /api/v1/kvittering``) until the kommune has journalført;
- fetch every oppdatering (``GET /api/v1/oppdatering``), asking only for those after
  the last one received (``etter``), process each once, in sekvensnummer order, and keep
  the *current* saksnummer and caseworker from them;
- download every outgoing document (mangelbrev, vedtak) while it exists (30 days);
- submit a follow-up søknad (IG, MB, FA) as DiBK's XML form, naming the case by its current
  ``kommunensSaksnummer`` and answering the earlier vedtak's vilkår and oppfølgingspunkter
  by ``utfallId`` (``dibk_xml.py``);
- answer a nabovarsel mangel "later" (the neighbours have two weeks) and then for real, as
  DiBK's Supplering av søknad v2 XML;
- answer every mangel with a supplering that echoes its ``mangelID`` and the kommune's
  current saksnummer (``kommunensSaksnummer``);
- back off when told to (429/503 with ``Retry-After``), ignore fields it does not know,
  and accept ``innsendingReferanse``/``ftBID`` as a string or a list.

It stops when every innsending has its vedtak and every document is downloaded.
Configuration comes from the environment the sandbox's ``run`` command sets:

    BYGGESAK_BASE_URL          the sandbox, e.g. http://127.0.0.1:8080
    BYGGESAK_USERNAME          HTTP Basic user of the run
    BYGGESAK_PASSWORD          HTTP Basic password of the run
    BYGGESAK_INNSENDINGSREFERANSER   comma-separated references to follow
    BYGGESAK_CLIENT_INNSENDINGER     JSON list of søknader to submit, each once the
                                     earlier ones are decided (optional)
    BYGGESAK_POLL_INTERVAL     seconds between polls (default 30)
    BYGGESAK_MAX_SECONDS       give up after this long (default 600)

Run: ``python examples/reference_client/client.py [--defect NAME]``; the defects are the
faulty variants in ``faulty.py`` that the sandbox's own tests use to prove its scoring.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from dibk_xml import Svar, soeknad
from dibk_xml import supplering as supplering_xml

log = logging.getLogger("referanseklient")
MANGEL_UTFALL = {"MG", "MSL", "MSI", "DOK", "OTI"}
FOLLOW_UPS = {"IG", "MB", "FA"}
VEDTAK_UTFALL = {"SVV", "MKV"}
XML = {"Content-Type": "application/xml"}


@dataclass
class Sak:
    """What the client knows about one innsending."""

    referanse: str
    kvittering: dict[str, Any] | None = None
    oppdateringer: dict[int, dict[str, Any]] = field(default_factory=dict)
    saksnummer: dict[str, str] | None = None
    saksbehandler: dict[str, Any] | None = None
    mangler: dict[str, dict[str, Any]] = field(default_factory=dict)
    besvart: set[str] = field(default_factory=set)
    senere: set[str] = field(default_factory=set)  # mangler declared answered later
    # The vedtak's vilkår and oppfølgingspunkter, by utfallId, for the follow-up to answer.
    utfall: dict[str, dict[str, Any]] = field(default_factory=dict)
    vedtak: dict[str, Any] | None = None
    cursor: int = 0  # the highest sekvensnummer received: ask only for later ones


class Client:
    """The reference client. Faulty variants override one method each."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        referanser: list[str],
        planned: list[dict[str, Any]],
        poll_interval: float,
        max_seconds: float,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.auth = (username, password)
        self.saker = {ref: Sak(ref) for ref in referanser}
        self.planned = list(planned)
        self.poll_interval = poll_interval
        self.deadline = time.monotonic() + max_seconds
        self.downloaded: set[str] = set()
        self.pending_documents: dict[str, str] = {}

    # -- HTTP ----------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One call, retried on 429/503 after Retry-After and on 500 and network errors."""
        url = path if path.startswith("http") else f"{self.base}{path}"
        for _attempt in range(10):
            try:
                response = self.http.request(method, url, timeout=30, **kwargs)
            except requests.RequestException as exc:
                log.warning("%s %s failed (%s); retrying", method, path, exc.__class__.__name__)
                self.sleep(self.poll_interval)
                continue
            if response.status_code in (429, 503):
                self.sleep(self.retry_after(response))
                continue
            if response.status_code >= 500:
                self.sleep(self.poll_interval)
                continue
            return response
        raise RuntimeError(f"{method} {path}: the service kept failing")

    def retry_after(self, response: requests.Response) -> float:
        """Seconds to wait before trying again, as the server says (capped at a minute)."""
        try:
            return min(60.0, float(response.headers.get("Retry-After", "1")))
        except ValueError:
            return 1.0

    def sleep(self, seconds: float) -> None:
        """Wait (overridden by nobody: the tight-loop defect changes the interval instead)."""
        time.sleep(max(0.0, seconds))

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> int:
        """Poll until every innsending is decided and every document downloaded."""
        while time.monotonic() < self.deadline:
            self.submit_planned()
            for sak in list(self.saker.values()):
                self.poll(sak)
            self.download_documents()
            if self.done():
                log.info("all innsendinger decided; stopping")
                return 0
            self.sleep(self.poll_interval)
        log.error("gave up after the time limit")
        return 3

    def done(self) -> bool:
        """Every innsending has a vedtak, nothing is left to submit or download."""
        return (
            not self.planned
            and all(s.vedtak is not None for s in self.saker.values())
            and not self.pending_documents
        )

    def submit_planned(self) -> None:
        """Submit the next planned søknad once everything submitted so far is decided."""
        if not self.planned or any(s.vedtak is None for s in self.saker.values()):
            return
        body = self.planned.pop(0)
        follows = [s for s in self.saker.values() if s.saksnummer is not None]
        if body.get("soknadstype") in FOLLOW_UPS and follows:
            case = follows[-1]
            svar = [Svar(i, u["utfallType"]["kodeverdi"]) for i, u in case.utfall.items()]
            xml = soeknad(body, case.saksnummer, svar)
            response = self.request("POST", "/api/v1/innsending", data=xml, headers=XML)
        else:
            response = self.request("POST", "/api/v1/innsending", json=body)
        response.raise_for_status()
        ref = response.json()["innsendingReferanse"]
        log.info("submitted %s søknad as %s", body.get("soknadstype"), ref)
        self.saker[ref] = Sak(ref)

    def poll(self, sak: Sak) -> None:
        """Fetch the kvittering (once) and the oppdateringer, then act on what is new."""
        if sak.kvittering is None:
            response = self.request(
                "GET", "/api/v1/kvittering", params={"innsendingReferanse": sak.referanse}
            )
            if response.status_code == 404:
                return  # not journalført yet
            response.raise_for_status()
            self.on_kvittering(sak, response.json())
        response = self.request(
            "GET",
            "/api/v1/oppdatering",
            params={"innsendingReferanse": sak.referanse, "etter": str(sak.cursor)},
        )
        response.raise_for_status()
        for item in sorted(
            self.parse_oppdateringer(response.json()), key=lambda o: int(o["sekvensnummer"])
        ):
            number = int(item["sekvensnummer"])
            if number not in sak.oppdateringer:  # a duplicate delivery is processed once
                sak.oppdateringer[number] = item
                self.on_oppdatering(sak, item)
            sak.cursor = max(sak.cursor, number)
        self.answer_mangler(sak)

    def parse_oppdateringer(self, body: Any) -> list[dict[str, Any]]:
        """The oppdatering list; fields this client does not know are simply ignored."""
        return [item for item in body if isinstance(item, dict) and "sekvensnummer" in item]

    # -- what the kommune said ------------------------------------------------------------

    def on_kvittering(self, sak: Sak, kvittering: dict[str, Any]) -> None:
        """Remember the receipt: first saksnummer, caseworker if already assigned."""
        sak.kvittering = kvittering
        sak.saksnummer = kvittering["saksnummer"]
        sak.saksbehandler = kvittering.get("avsenderKontaktpunkt")
        log.info(
            "%s journalført as %s/%s",
            sak.referanse,
            sak.saksnummer["saksaar"],
            sak.saksnummer["sakssekvensnummer"],
        )

    def on_oppdatering(self, sak: Sak, item: dict[str, Any]) -> None:
        """Apply one oppdatering: key information, mangler, vedtak, documents."""
        nokkelinfo = item.get("nokkelinfo") or {}
        if "saksnummer" in nokkelinfo:
            self.on_new_saksnummer(sak, nokkelinfo["saksnummer"])
        if "saksbehandler" in nokkelinfo:
            sak.saksbehandler = nokkelinfo["saksbehandler"]
        for utfall in item.get("utfall") or []:
            code = (utfall.get("utfall") or {}).get("kodeverdi")
            if code in MANGEL_UTFALL and utfall.get("mangelID"):
                sak.mangler[utfall["mangelID"]] = utfall
            if code in VEDTAK_UTFALL and utfall.get("utfallId"):
                sak.utfall[utfall["utfallId"]] = utfall
        if item.get("vedtak") or item.get("soknadStatus") == "VF":
            sak.vedtak = item.get("vedtak") or {"resultat": "ukjent"}
        for dokument in item.get("utgaaendeDokument") or []:
            self.queue_document(item, dokument)

    def on_new_saksnummer(self, sak: Sak, saksnummer: dict[str, str]) -> None:
        """The kommune moved the case: use the new number from now on."""
        sak.saksnummer = saksnummer

    def queue_document(self, item: dict[str, Any], dokument: dict[str, Any]) -> None:
        """Remember a document to download."""
        url = dokument.get("dokumentUrl")
        if url and url not in self.downloaded:
            self.pending_documents[url] = dokument.get("dokumentTittel", "")

    def download_documents(self) -> None:
        """Fetch every queued document once."""
        for url, title in list(self.pending_documents.items()):
            response = self.request("GET", url)
            if response.status_code == 200:
                log.info("downloaded '%s' (%d bytes)", title, len(response.content))
            else:
                log.warning("'%s' answered %s", title, response.status_code)
            self.downloaded.add(url)
            del self.pending_documents[url]

    # -- answering ------------------------------------------------------------------------

    def answer_mangler(self, sak: Sak) -> None:
        """Answer every open mangel in one supplering, echoing each mangelID."""
        open_ids = [m for m in sak.mangler if m not in sak.besvart]
        if not open_ids or sak.saksnummer is None:
            return
        if any(self.wait_for(sak, m) or m in sak.senere for m in open_ids):
            self.answer_in_xml(sak, open_ids)
            return
        body = self.supplering(sak, open_ids)
        response = self.request("POST", "/api/v1/supplering", json=body)
        response.raise_for_status()
        sak.besvart.update(open_ids)
        log.info("answered %d mangel(er) on %s", len(open_ids), sak.referanse)

    def wait_for(self, sak: Sak, mangel_id: str) -> bool:
        """A nabovarsel mangel not yet declared later: the neighbours need their two weeks."""
        tema = (sak.mangler[mangel_id].get("tema") or {}).get("kodeverdi")
        return tema == "nabovarsel" and mangel_id not in sak.senere

    def answer_in_xml(self, sak: Sak, open_ids: list[str]) -> None:
        """Supplering v2 as DiBK's XML: a nabovarsel mangel first "later", then for real."""
        assert sak.saksnummer is not None
        later = [m for m in open_ids if self.wait_for(sak, m)]
        svar = [Svar(m, "MG", later=m in later, kommentar="Se vedlegg.") for m in open_ids]
        xml = supplering_xml(sak.saksnummer, svar)
        response = self.request("POST", "/api/v1/supplering", data=xml, headers=XML)
        response.raise_for_status()
        sak.senere.update(later)
        sak.besvart.update(m for m in open_ids if m not in later)
        log.info("answered %d, deferred %d mangel(er) on %s", len(open_ids) - len(later),
                 len(later), sak.referanse)

    def supplering(self, sak: Sak, mangel_ids: list[str]) -> dict[str, Any]:
        """A structured mangelbesvarelse (Supplering av søknad)."""
        assert sak.saksnummer is not None
        return {
            "innsendingReferanse": sak.referanse,
            "kommunensSaksnummer": {
                "saksaar": sak.saksnummer["saksaar"],
                "sakssekvensnummer": sak.saksnummer["sakssekvensnummer"],
            },
            "mangelbesvarelse": [
                {"mangelID": mangel_id, "kommentar": "Etterspurt dokumentasjon er vedlagt."}
                for mangel_id in mangel_ids
            ],
        }


def main(argv: list[str] | None = None) -> int:
    """Read the environment, pick the variant, run."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    args = list(sys.argv[1:] if argv is None else argv)
    defect = os.environ.get("BYGGESAK_DEFECT")
    if "--defect" in args:
        defect = args[args.index("--defect") + 1]
    from faulty import VARIANTS  # noqa: PLC0415 - faulty.py subclasses Client

    cls = VARIANTS[defect] if defect else Client
    client = cls(
        os.environ["BYGGESAK_BASE_URL"],
        os.environ["BYGGESAK_USERNAME"],
        os.environ["BYGGESAK_PASSWORD"],
        [r for r in os.environ.get("BYGGESAK_INNSENDINGSREFERANSER", "").split(",") if r],
        json.loads(os.environ.get("BYGGESAK_CLIENT_INNSENDINGER", "[]")),
        float(os.environ.get("BYGGESAK_POLL_INTERVAL", "30")),
        float(os.environ.get("BYGGESAK_MAX_SECONDS", "600")),
    )
    return client.run()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
