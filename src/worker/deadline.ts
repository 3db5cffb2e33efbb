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
