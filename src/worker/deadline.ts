/**
 * A promise bounded in time: `call`'s outcome, or a rejection with `onTimeout()` once `ms` have
 * passed. The call itself goes on (nothing here can cancel an SDK operation); its late outcome is
 * ignored, and a late rejection is handled (by the race), so it is never reported as unhandled.
 */
export function withDeadline<T>(
  call: Promise<T>,
  ms: number | undefined,
  onTimeout: () => Error,
): Promise<T> {
  if (ms === undefined) return call;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `call` at most `ms` (undefined: for as long as it takes): true when it finished in
 * time, false when the time ran out first. A failure in time is passed on; the call goes on after
 * a timeout, left behind, and its late outcome is ignored (the race has subscribed to it).
 */
export function finishedWithin(call: Promise<unknown>, ms: number | undefined): Promise<boolean> {
  const finished = call.then(() => true);
  if (ms === undefined) return finished;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([finished, late]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `call` to settle, or for `signal` to abort, whichever comes first: true when the call
 * settled (either way), false when the abort came first. The call goes on; its outcome is the
 * caller's to handle (attach a handler to `call` itself).
 */
export function settledOrAborted(call: Promise<unknown>, signal: AbortSignal | undefined): Promise<boolean> {
  const settled = call.then(
    () => true,
    () => true,
  );
  if (!signal) return settled;
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    void settled.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    });
  });
}
