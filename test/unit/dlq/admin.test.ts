import assert from "node:assert/strict";
import { adminUnavailable, AdminUnavailable, developmentEmulator } from "../../../src/cli/dlq/admin.js";

const restError = (statusCode: number | undefined, code?: string): Error =>
  Object.assign(new Error(`status ${statusCode}`), { name: "RestError", statusCode, code });

describe("dlq admin: when the administration API is used", () => {
  it("rewrites to http only for development-emulator connection strings, keeping their port", () => {
    assert.deepEqual(
      developmentEmulator(
        "Endpoint=sb://localhost:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
      ),
      { port: 5672 },
    );
    // Microsoft's emulator: no port in the string; its administration API is on 5300.
    assert.deepEqual(
      developmentEmulator(
        "Endpoint=sb://localhost;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=True",
      ),
      { port: undefined },
    );
    assert.equal(
      developmentEmulator(
        "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v",
      ),
      undefined,
    );
    assert.equal(
      developmentEmulator("Endpoint=sb://localhost:5672;UseDevelopmentEmulator=false;SharedAccessKey=v"),
      undefined,
    );
  });

  it("gives the API up when refused (401/403), unreachable or failing (5xx), not on 404", () => {
    const refused = adminUnavailable(restError(401, "UnauthorizedRequestError"));
    assert.ok(refused instanceof AdminUnavailable);
    assert.equal(refused.reason, "refused (401 UnauthorizedRequestError: needs Manage)");
    assert.match(adminUnavailable(restError(403))!.reason, /^refused \(403: needs Manage\)$/);
    assert.equal(
      adminUnavailable(restError(undefined, "ECONNREFUSED"))!.reason,
      "unreachable (ECONNREFUSED)",
    );
    assert.match(adminUnavailable(restError(503))!.reason, /^failed \(503: /);
    assert.equal(adminUnavailable(restError(404, "MessageEntityNotFoundError")), undefined);
    assert.equal(adminUnavailable(restError(400)), undefined);
    // A credential that cannot get a token fails the peek path too: not a reason to fall back.
    for (const name of ["CredentialUnavailableError", "AggregateAuthenticationError", "AuthenticationError"])
      assert.equal(adminUnavailable(Object.assign(new Error("no token"), { name })), undefined);
  });
});
