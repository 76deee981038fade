// Dates as the API and the form inputs want them.

// The API's query times: ISO 8601 in UTC, to the second.
export function isoSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// A datetime-local input's value: local time, to the minute.
export function localInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}
