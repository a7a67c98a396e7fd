"""Every bound the sandbox holds input to, declared once.

The input schemas (and so ``/openapi.json`` and the scenario JSON Schema), the body
reader, the virtual clock, the duration parser and the scenario loader all read their
limits here. Each bound is far above what a real case needs and low enough that no
request, run page or journal entry becomes slow because of it. Plain data: it imports
nothing of the app.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# ---- JSON bodies -------------------------------------------------------------------------

# Nesting levels of a JSON body, counted before it is parsed. The deepest body the API
# accepts (a supplering's vedlegg's ekstraMetadata) nests five.
JSON_DEPTH = 16

# ---- lists -------------------------------------------------------------------------------

# Files in an innsending, in a mangelbesvarelse's vedlegg or an ettersending's vedleggsliste.
DOCUMENTS = 100
# Key/value pairs of one document's ekstraMetadata.
METADATA = 50
# Answers, ettersendinger, mangler, vilkår, oppfølgingspunkter: items in one body.
ITEMS = 100
# Codes in one list (tiltakstype, distribusjonsmetode), references in a saksnummer change.
CODES = 20
# Lines of a message (melding) or a letter (tekst).
LINES = 100

# ---- text --------------------------------------------------------------------------------

# Identifiers: a mangelID, an innsendingReferanse, a step id, a scenario id.
IDENTIFIER = 100
# Names and titles (tittel, navn, a run's label).
NAME = 200
# A file's name (dokumentNavn).
FILE_NAME = 255
# Free text: a kommentar, a beskrivelse, one line of a letter, a metadata value.
TEXT = 4_000

# ---- numbers -----------------------------------------------------------------------------

# A run's seed is stored as a signed 64-bit integer.
SEED_MAX = 2**63 - 1

# ---- time --------------------------------------------------------------------------------

# The longest ISO-8601 duration anywhere: a clock move, an on_poll step, a scenario delay.
DURATION_MAX = timedelta(weeks=520)
DURATION_MAX_TEXT = "P520W"
# Wall time within which the same søknad (canonical body) from the same tenant is that
# søknad sent again, not a new one: long enough for a client's retries after a timeout,
# short against a tester who reuses a test søknad another day.
TENANT_RESEND_WINDOW = timedelta(minutes=10)
# The most Norwegian working days a scenario delay may name (about ten years).
VIRKEDAGER_MAX = 2_600
# Every virtual date lies in [EARLIEST, HORIZON]: a clock stops at the horizon, and a
# date or a move past it is refused. Far below year 9999, so that any frist or delay
# added to a date near the horizon still is a date.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
HORIZON = datetime(2200, 1, 1, tzinfo=UTC)
HORIZON_TEXT = "2200-01-01T00:00:00Z"

# ---- logins ------------------------------------------------------------------------------

# Failed sign-ins on the UI (/ui/login, /ui/tenant/login) within LOGIN_WINDOW: past this
# many for one username, or from one remote address, a sign-in is answered 429 without a
# look at the password until the window that began with the first failure is over. An
# address gets more, since a proxy or an office shares one among several people.
LOGIN_FAILURES_PER_USERNAME = 5
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_WINDOW = timedelta(minutes=15)

# ---- scenario files ----------------------------------------------------------------------

# Bytes of one scenario file; the largest shipped one is about 4 KB. The round-trip YAML
# parser reads some 100 KB a second, so any file is answered within the two seconds lint
# promises.
SCENARIO_BYTES = 64 * 1024
# Nesting levels of a scenario file (the deepest shipped one nests seven).
SCENARIO_DEPTH = 32
# Nodes of a scenario file with every alias written out (the "billion laughs" bound).
SCENARIO_NODES = 10_000
