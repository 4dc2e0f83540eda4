// The webhook signing secret kai verifies Linear's deliveries with.
import { fail, pass, type CheckResult, type DoctorCheck, type DoctorContext } from './check';

export const webhookSecretCheck: DoctorCheck = { name: 'Webhook secret', run: async (ctx) => [webhookSecret(ctx)] };

function webhookSecret({ config, env }: DoctorContext): CheckResult {
  const fromFile = config.transports.linear.webhook_signing_secret;
  const fromEnv = env.LINEAR_WEBHOOK_SECRET;
  if (fromFile) return pass('Webhook secret', `set (${fromEnv === fromFile ? 'LINEAR_WEBHOOK_SECRET' : 'transports.linear.webhook_signing_secret'})`);
  if (fromEnv) return pass('Webhook secret', 'set (LINEAR_WEBHOOK_SECRET)');
  return fail(
    'Webhook secret',
    'not set: kai cannot verify that webhooks come from Linear',
    "Copy the signing secret from your Linear app's webhook settings into LINEAR_WEBHOOK_SECRET (or transports.linear.webhook_signing_secret).",
  );
}
