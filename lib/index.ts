// index.ts: the public TypeScript API of solo5-node.
export { launch, prepare, type Guest, type PreparedGuest } from './tender/launch';
export { VirtualSwitch, SwitchEndpoint } from './devices/switch';
export {
  startSwitchDaemon,
  SwitchDaemon,
  type SwitchDaemonOptions,
  type SwitchdStats,
  type SwitchdPortStats,
  type SwitchdEvent,
} from './switchd/daemon';
export { Pinger, type PingResult } from './net/pinger';
export { run, type RunOptions, type RunResult } from './tender/run';
export type { LaunchOptions, BlockAttach, NetAttach, Target } from './tender/options';
export type { GuestExit } from './tender/exit';
export { createLog, type TenderLog, type LogLevel } from './log';
export { Solo5Error, UsageError, ElfError, ManifestError, DeviceError, HostError } from './errors';
export {
  compareTargets,
  appOutput,
  type CompareOptions,
  type Comparison,
  type Difference,
  type TargetRun,
  type VirtioTargetRun,
} from './compare';
