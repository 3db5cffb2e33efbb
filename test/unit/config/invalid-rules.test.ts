import { officialWith, REMOVE } from "./fixtures.js";
import { P_R, P_S, P_SQL, R, S, SQL, rejectsEach, type BadCase } from "./bad-cases.js";

const cases: readonly BadCase[] = [
  // Rules
  {
    name: "an unknown filter type",
    config: officialWith([`${R}/FilterType`, "Boolean"]),
    path: `${P_R}.FilterType`,
    shown: `"Boolean" is not a filter type`,
    allowed: `one of "Correlation", "Sql"`,
  },
  {
    name: "a lowercase filter type",
    config: officialWith([`${R}/FilterType`, "sql"]),
    path: `${P_R}.FilterType`,
    shown: `"sql"`,
    allowed: `one of "Correlation", "Sql"`,
  },
  {
    name: "a rule without Properties",
    config: officialWith([`${S}/0/Rules/0/Properties`, REMOVE]),
    path: `${P_S}[0].Rules[0].Properties`,
    shown: "(missing) is required",
    allowed: `an object with "FilterType" and its filter`,
  },
  {
    name: "a correlation rule without a filter",
    config: officialWith([`${R}/CorrelationFilter`, REMOVE]),
    path: `${P_R}.CorrelationFilter`,
    shown: "(missing) is required",
    allowed: "at least one of ContentType, CorrelationId, Label",
  },
  {
    name: "an empty correlation filter",
    config: officialWith([`${R}/CorrelationFilter`, {}]),
    path: `${P_R}.CorrelationFilter`,
    shown: "{} has no fields",
    allowed: "at least one of ContentType",
  },
  {
    name: "a misspelt correlation field",
    config: officialWith([`${R}/CorrelationFilter/Subject`, "x"]),
    path: `${P_R}.CorrelationFilter.Subject`,
    shown: `"Subject" is not a known property`,
    allowed: `"Label"`,
  },
  {
    name: "a numeric correlation id",
    config: officialWith([`${R}/CorrelationFilter/CorrelationId`, 5]),
    path: `${P_R}.CorrelationFilter.CorrelationId`,
    shown: "5 is not a string",
    allowed: "a string",
  },
  {
    name: "empty application properties",
    config: officialWith([`${S}/1/Rules/0/Properties/CorrelationFilter/Properties`, {}]),
    path: `${P_S}[1].Rules[0].Properties.CorrelationFilter.Properties`,
    shown: "{} has no properties",
    allowed: "each a string, number or boolean",
  },
  {
    name: "a null application property",
    config: officialWith([`${S}/1/Rules/0/Properties/CorrelationFilter/Properties/prop3`, null]),
    path: `${P_S}[1].Rules[0].Properties.CorrelationFilter.Properties.prop3`,
    shown: "null is not a string, number or boolean",
    allowed: "a string, number or boolean",
  },
  {
    name: "an array application property with an odd name",
    config: officialWith([`${S}/1/Rules/0/Properties/CorrelationFilter/Properties/my prop`, [1]]),
    path: `${P_S}[1].Rules[0].Properties.CorrelationFilter.Properties["my prop"]`,
    shown: "[1] is not a string",
    allowed: "a string, number or boolean",
  },
  {
    name: "a correlation rule with a SqlFilter too",
    config: officialWith([`${R}/SqlFilter`, { SqlExpression: "a = 1" }]),
    path: `${P_R}.SqlFilter`,
    shown: `{"SqlExpression":"a = 1"} is not allowed when FilterType is "Correlation"`,
    allowed: "no SqlFilter with this FilterType",
  },
  {
    name: "a SQL rule with a CorrelationFilter too",
    config: officialWith([`${SQL}/CorrelationFilter`, { To: "x" }]),
    path: `${P_SQL}.CorrelationFilter`,
    shown: `is not allowed when FilterType is "Sql"`,
    allowed: "no CorrelationFilter",
  },
  {
    name: "a SQL rule without SqlFilter",
    config: officialWith([`${SQL}/SqlFilter`, REMOVE]),
    path: `${P_SQL}.SqlFilter`,
    shown: "(missing) is required",
    allowed: `"SqlExpression": a non-empty SQL filter expression`,
  },
  {
    name: "an empty SQL expression",
    config: officialWith([`${SQL}/SqlFilter/SqlExpression`, "  "]),
    path: `${P_SQL}.SqlFilter.SqlExpression`,
    shown: `"  " is empty`,
    allowed: "a non-empty SQL filter expression",
  },
  {
    name: "a misspelt SqlExpression",
    config: officialWith([`${SQL}/SqlFilter`, { Expression: "a = 1" }]),
    path: `${P_SQL}.SqlFilter.Expression`,
    shown: `"Expression" is not a known property`,
    allowed: `"SqlExpression"`,
  },
  {
    name: "a non-string action",
    config: officialWith([`${SQL}/Action/SqlExpression`, 42]),
    path: `${P_SQL}.Action.SqlExpression`,
    shown: "42 is not a string",
    allowed: "a non-empty SQL action expression",
  },
  {
    name: "an action that is a string",
    config: officialWith([`${SQL}/Action`, "SET a = 1"]),
    path: `${P_SQL}.Action`,
    shown: `"SET a = 1" is not an object`,
    allowed: `"SqlExpression"`,
  },
];

describe("config: invalid rules", () => {
  rejectsEach(cases);
});
