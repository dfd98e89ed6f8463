/**
 * GRPO's group-normalised advantage: within each problem's G rollouts,
 * (reward - mean) / (std + eps) with the sample standard deviation (as torch.std); a group whose
 * rewards are all equal gets 0 for every rollout.
 */
export const GRPO_EPS = 1e-6;

export function groupAdvantages(rewards: readonly number[]): number[] {
  const n = rewards.length;
  if (n < 2) return rewards.map(() => 0);
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  const varS = rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1);
  const std = Math.sqrt(varS);
  if (std === 0) return rewards.map(() => 0);
  return rewards.map((r) => (r - mean) / (std + GRPO_EPS));
}
