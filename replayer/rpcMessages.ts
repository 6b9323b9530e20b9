/**
 * The JSON-RPC messages in one stored message text: the message itself, or the members of a
 * batch; none when the text is not JSON (a recorder keeps whatever crossed the wire). Members
 * that are not objects are left out.
 */
export function rpcMessages(raw: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.filter((m): m is Record<string, unknown> => m !== null && typeof m === 'object' && !Array.isArray(m));
}
