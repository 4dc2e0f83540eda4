export const HARNESS_ENV = {
  address: 'KAI_TEST_TEMPORAL_ADDRESS',
  cliPath: 'KAI_TEST_TEMPORAL_CLI',
  bundlePath: 'KAI_TEST_WORKFLOW_BUNDLE',
} as const;

/** The shared test server suggests continue-as-new after this many history events: high
 *  enough that one- and two-turn tests never see it, low enough for the test that needs it. */
export const SUGGEST_CONTINUE_AS_NEW_AFTER = 200;
