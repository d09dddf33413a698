"""The operator console's search requests for one typed question, sent live (the load test's
operator, bench/locustfile.py) by static/js/console.js's rules.

The keystrokes come from bench/console_typing.py's typing model (`keystrokes`), and the
moments the console's timer fires from its `pause_ends` (250 ms after a key with no key
meanwhile). What the console then sends is decided here, rule for rule as in console.js's
`runSearch`:

- a text equal to the newest search asked and not yet answered is not asked again;
- with nothing pending, a text whose results are listed is not asked again ("printer",
  then a space);
- a text under two characters sends nothing and clears the list;
- one search at a time is on the wire: a newer text waits for it, a still newer one
  replaces the waiting one (never asked), and when the answer comes only the newest text
  is sent; the answer of a search overtaken meanwhile is not listed.

The driver is a plain loop on a clock, no busy waiting: it sleeps until the next pause end,
sends (the caller's `send` blocks for the request; in locust the greenlet yields), and
after the answer applies the pause ends that came while it was on the wire, in order. The
typing goes on regardless of the answers (the operator types while listening), so the
pause ends are known in advance; only the answers' times depend on the server.
"""

from console_typing import CONSOLE_PAUSE_MS, MIN_CHARS, pause_ends


class ConsoleRules:
    """console.js's request state for the question box: what is listed (`shown`), the
    newest search asked and not finished (`pending`), the one on the wire and the one
    waiting for it."""

    def __init__(self):
        self.shown = None
        self.pending = None
        self.seq = 0  # console.js requestSeq
        self.on_wire = None  # (seq, text)
        self.waiting = None  # (seq, text): the newest search waiting for the wire

    def pause_end(self, text):
        """runSearch() when the pause after a key ends; the text to send now, or None."""
        if self.pending is not None and self.pending == text:
            return None
        if self.pending is None and self.shown == text:
            return None
        self.seq += 1
        if len(text) < MIN_CHARS:  # the list is cleared at once, nothing is asked
            self.shown = self.pending = self.waiting = None
            return None
        self.pending = text
        if self.on_wire is None:
            self.on_wire = (self.seq, text)
            return text
        self.waiting = (self.seq, text)  # an older waiting one is dropped when the wire frees
        return None

    def answered(self, ok):
        """The search on the wire answered (`ok`: HTTP 200); the next text to send, or None."""
        seq, text = self.on_wire
        self.on_wire = None
        if seq == self.seq:  # still the newest: its results are listed
            self.shown = text if ok else None
            self.pending = None
            return None
        waiting, self.waiting = self.waiting, None  # overtaken: its answer is not listed
        if waiting is not None and waiting[0] == self.seq:
            self.on_wire = waiting
            return waiting[1]
        return None


def type_question(keys, send, clock, sleep, pause_ms=CONSOLE_PAUSE_MS):
    """Type one question (`keys`: [(ms from the start, text in the box)]) into a simulated
    console and send its searches by the console's rules.

    `send(text, whole)` performs one search and returns True when it answered HTTP 200;
    `whole` is True for the whole question's search. `clock()` is the ms since the
    question's typing started; `sleep(ms)` waits. Returns the texts sent, in order."""
    ends = pause_ends(keys, lambda text: pause_ms)
    whole = keys[-1][1].strip()
    rules = ConsoleRules()
    sent = []
    i = 0
    while i < len(ends):
        at, text = ends[i]
        i += 1
        now = clock()
        if at > now:
            sleep(at - now)
        to_send = rules.pause_end(text)
        while to_send is not None:
            sent.append(to_send)
            ok = send(to_send, to_send == whole)
            answered_at = clock()
            while i < len(ends) and ends[i][0] <= answered_at:
                rules.pause_end(ends[i][1])  # the wire is busy: these only wait or are dropped
                i += 1
            to_send = rules.answered(ok)
    return sent
