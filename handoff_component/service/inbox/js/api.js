// The service's JSON API, called with the session cookie (HttpOnly, set by /api/auth/login).

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ? body.error : {};
    super(error.message || `the service answered ${status}`);
    this.status = status;
    this.code = error.code || null;
    this.body = body;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new ApiError(0, { error: { message: `the service cannot be reached (${error.message})` } });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const post = (path, body) => api(path, { method: "POST", body });

/** A file's bytes as the body (the service reads its real type from them); JSON back. */
export async function upload(path, file) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": file.type || "application/octet-stream" },
      body: file,
    });
  } catch (error) {
    throw new ApiError(0, { error: { message: `the upload did not reach the service (${error.message})` } });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
