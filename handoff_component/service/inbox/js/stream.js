// The service's live stream (GET /api/stream, Server-Sent Events) with reconnection.
// EventSource sends the session cookie itself; each time it opens the caller refreshes, since
// events sent before it opened or while the connection was down are not replayed.

const EVENT_TYPES = [
  "ticket.created",
  "ticket.updated",
  "message.created",
  "message.delivery",
  "note.created",
];

export function openStream({ onEvent, onState, onLost }) {
  let source = null;
  let delay = 1000;
  let stopped = false;

  function connect() {
    source = new EventSource("/api/stream");
    source.onopen = () => {
      delay = 1000;
      onState(true);
    };
    source.onerror = () => {
      onState(false);
      if (source.readyState === EventSource.CLOSED && !stopped) {
        // The browser gave up (an error status such as 401): ask the caller, then retry.
        onLost();
        setTimeout(() => !stopped && connect(), delay);
        delay = Math.min(delay * 2, 30000);
      }
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event) => onEvent(type, JSON.parse(event.data)));
    }
  }

  connect();
  return () => {
    stopped = true;
    source?.close();
  };
}
