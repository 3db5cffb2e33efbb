/**
 * Microsoft's default Config.json for the Service Bus emulator (Azure/service-bus-emulator-installer,
 * ServiceBus-Emulator/Config/Config.json), with the SQL rule and action of its current sample.
 * A function so each test can mutate its own copy.
 */
export function officialConfig(): Record<string, unknown> {
  const subscriptionProperties = {
    DeadLetteringOnMessageExpiration: false,
    DefaultMessageTimeToLive: "PT1H",
    LockDuration: "PT1M",
    MaxDeliveryCount: 3,
    ForwardDeadLetteredMessagesTo: "",
    ForwardTo: "",
    RequiresSession: false,
  };
  return {
    UserConfig: {
      Namespaces: [
        {
          Name: "sbemulatorns",
          Queues: [
            {
              Name: "queue.1",
              Properties: {
                DeadLetteringOnMessageExpiration: false,
                DefaultMessageTimeToLive: "PT1H",
                DuplicateDetectionHistoryTimeWindow: "PT20S",
                ForwardDeadLetteredMessagesTo: "",
                ForwardTo: "",
                LockDuration: "PT1M",
                MaxDeliveryCount: 3,
                RequiresDuplicateDetection: false,
                RequiresSession: false,
              },
            },
          ],
          Topics: [
            {
              Name: "topic.1",
              Properties: {
                DefaultMessageTimeToLive: "PT1H",
                DuplicateDetectionHistoryTimeWindow: "PT20S",
                RequiresDuplicateDetection: false,
              },
              Subscriptions: [
                {
                  Name: "subscription.1",
                  Properties: { ...subscriptionProperties },
                  Rules: [
                    {
                      Name: "app-prop-filter-1",
                      Properties: {
                        FilterType: "Correlation",
                        CorrelationFilter: {
                          ContentType: "application/text",
                          CorrelationId: "id1",
                          Label: "subject1",
                          MessageId: "msgid1",
                          ReplyTo: "someQueue",
                          ReplyToSessionId: "sessionId",
                          SessionId: "session1",
                          To: "xyz",
                        },
                      },
                    },
                  ],
                },
                {
                  Name: "subscription.2",
                  Properties: { ...subscriptionProperties },
                  Rules: [
                    {
                      Name: "user-prop-filter-1",
                      Properties: {
                        FilterType: "Correlation",
                        CorrelationFilter: { Properties: { prop3: "value3" } },
                      },
                    },
                  ],
                },
                {
                  Name: "subscription.3",
                  Properties: { ...subscriptionProperties },
                  Rules: [
                    {
                      Name: "sql-filter-1",
                      Properties: {
                        FilterType: "Sql",
                        SqlFilter: { SqlExpression: "sys.MessageId = '123456' AND userProp1 = 'value1'" },
                        Action: { SqlExpression: "SET sys.To = 'Entity'" },
                      },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
      Logging: { Type: "File" },
    },
  };
}

/** Marks a property for removal in `edit`. */
export const REMOVE = Symbol("remove");

/**
 * Returns `config` with the value at a slash-separated path (`UserConfig/Namespaces/0/Name`)
 * replaced, or removed with REMOVE. Intermediate objects must exist.
 */
export function edit(config: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const keys = path.split("/");
  const last = keys.pop()!;
  let node: unknown = config;
  for (const key of keys) {
    node = (node as Record<string, unknown>)[key];
    if (typeof node !== "object" || node === null) throw new Error(`fixture path ${path} has no ${key}`);
  }
  const target = node as Record<string, unknown>;
  if (value === REMOVE) delete target[last];
  else target[last] = value;
  return config;
}

/** The official config with several edits applied in order. */
export function officialWith(...edits: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const config = officialConfig();
  for (const [path, value] of edits) edit(config, path, value);
  return config;
}
