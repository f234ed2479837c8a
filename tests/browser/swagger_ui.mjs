// Drives Swagger UI at /api/docs/ in headless Debian Chromium (npm playwright-core, no browser of its
// own): authorise with a Bearer token through the "Authorize" dialog, then "Try it out" ->
// "Execute" on GET /api/events/, and check the page shows 200 and the JSON body the API returns.
// Run by test_swagger_ui.py, which starts the server and registers the user.
//
//   node swagger_ui.mjs CONFIG_JSON
//   CONFIG_JSON: {"url", "token", "expected_body" (the JSON of GET /api/events/), "screenshot",
//                 "chromium", "profile" (a new empty directory, the browser's user data dir)}
//
// Exits 0 when every check passed, 1 with the reason on stderr otherwise. The browser is closed
// pass or fail (the caller owns and removes the profile, and kills the process group on its
// deadline). Waits are Playwright's (for elements to appear), never sleeps.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";

import { chromium } from "playwright-core";

const ELEMENT_WAIT_MS = 60_000; // generous: the page loads 2 MB of JavaScript under a busy CI
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const config = JSON.parse(process.argv[2]);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Screenshot target: the page's viewport, or the operation under test while it is being set up
// (so a failure shows the state of its parameters).
let focus;

async function exercise(page, problems) {
  page.setDefaultTimeout(ELEMENT_WAIT_MS);
  const response = await page.goto(config.url);
  check(response.status() === 200, `GET ${config.url}: ${response.status()}`);

  // The document from /api/schema/ is rendered: its title and the bearer "Authorize" button.
  const title = page.locator(".swagger-ui .info .title");
  await title.waitFor();
  check((await title.innerText()).includes("Almanac"), `title: ${await title.innerText()}`);

  // Authorize -> paste the token into the bearerAuth field -> Authorize -> Close.
  await page.locator(".swagger-ui .auth-wrapper button.authorize").click();
  const dialog = page.locator(".swagger-ui .dialog-ux .modal-ux");
  await dialog.waitFor();
  const scheme = dialog.locator(".auth-container").filter({ hasText: "bearerAuth" });
  await scheme.locator("input").fill(config.token);
  // The dialog's buttons carry aria-labels: "Authorize" is "Apply credentials", "Logout" (shown
  // once the token is taken) is "Remove authorization".
  await dialog.getByRole("button", { name: "Apply credentials" }).click();
  await dialog.getByRole("button", { name: "Remove authorization" }).waitFor();
  await dialog.getByRole("button", { name: "Close" }).click();
  await dialog.waitFor({ state: "detached" });

  // GET /api/events/: open it, Try it out, Execute.
  const operation = page.locator(".swagger-ui .opblock.opblock-get").filter({
    has: page.locator('.opblock-summary-path[data-path="/api/events/"]'),
  });
  focus = operation;
  await operation.locator(".opblock-summary-control").click();
  await operation.locator("button.try-out__btn").click();
  // "Try it out" fills every parameter with its documented example (q=srinagar, ...): clear them
  // all, so the request lists every event of the user, as the API returned it to the test.
  const parameters = operation.locator(".parameters-container");
  await parameters.locator("input").first().waitFor();
  for (const input of await parameters.locator("input[type=text], input:not([type])").all()) {
    await input.fill("");
  }
  for (const select of await parameters.locator("select").all()) {
    await select.selectOption({ index: 0 }); // "--": not sent
  }
  await operation.locator("button.execute").click();
  const requestUrl = operation.locator(".request-url pre");
  await requestUrl.waitFor();
  const expectedUrl = new URL("/api/events/", config.url).href; // same origin as the page
  check((await requestUrl.innerText()).trim() === expectedUrl,
        `"Execute" requested ${await requestUrl.innerText()}, not ${expectedUrl}`);

  // The live response: its status and body.
  const live = operation.locator(".live-responses-table .response");
  const status = live.locator(".response-col_status");
  await status.waitFor();
  // The screenshot: the viewport from the curl command down (request URL, status, body).
  await operation.locator(".curl-command").evaluate((element) => element.scrollIntoView());
  focus = page;
  const code = (await status.innerText()).trim();
  const body = live
    .locator('.response-col_description div:has(> h5:text-is("Response body")) pre')
    .first();
  await body.waitFor();
  const text = await body.innerText();
  check(code === "200", `"Try it out" answered ${code}: ${text}`);
  let shown;
  try {
    shown = JSON.parse(text);
  } catch (error) {
    throw new Error(`the response body in the page is not JSON (${error.message}): ${text}`);
  }
  check(isDeepStrictEqual(shown, config.expected_body),
        `the page shows ${JSON.stringify(shown)}, the API returns ` +
            JSON.stringify(config.expected_body));
  const curl = await operation.locator(".curl-command").innerText();
  check(curl.includes(`Authorization: Bearer ${config.token}`),
        `the request did not carry the pasted token: ${curl}`);

  // Nothing was refused on the way (a Content-Security-Policy violation is a console error).
  check(problems.length === 0, `the page reported problems:\n  ${problems.join("\n  ")}`);
}

let context;
let failure;
try {
  context = await chromium.launchPersistentContext(config.profile, {
    executablePath: config.chromium,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: ELEMENT_WAIT_MS,
    viewport: { width: 1280, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  try {
    await exercise(page, problems);
  } finally {
    if (config.screenshot) {
      mkdirSync(path.dirname(config.screenshot), { recursive: true });
      const shot = focus ?? page;
      await shot.screenshot({ path: config.screenshot, timeout: 10_000 }).catch((error) => {
        console.error(`screenshot failed: ${error.message}`);
      });
    }
  }
} catch (error) {
  failure = error;
} finally {
  await context?.close().catch(() => {});
}
if (failure) {
  console.error(failure.stack ?? String(failure));
  process.exit(1);
}
console.log(`Swagger UI: authorised, "Try it out" on GET /api/events/ showed 200 and the JSON body`);
