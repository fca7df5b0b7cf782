import { MAX_TASKS } from '@qitian/topology';

/** A root id is `sequence * ROOT_TASK_MODULUS + spoutTask`: acks find their spout without a lookup. */
export const ROOT_TASK_MODULUS = MAX_TASKS;

export function rootTask(root: number): number {
  return root % ROOT_TASK_MODULUS;
}
