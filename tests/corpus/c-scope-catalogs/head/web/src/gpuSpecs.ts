// Shown in the dashboard's "choose a node type" dialog: one entry per GPU the chart has a profile for.
export const GPU_SPECS: Record<string, { memoryGb: number; instance: string; gpusPerInstance: number }> = {
  T4: { memoryGb: 16, instance: "g4dn.12xlarge", gpusPerInstance: 4 },
  A10G: { memoryGb: 24, instance: "g5.12xlarge", gpusPerInstance: 4 },
  L4: { memoryGb: 24, instance: "g6.12xlarge", gpusPerInstance: 4 },
  L40S: { memoryGb: 48, instance: "g6e.12xlarge", gpusPerInstance: 4 },
  H100: { memoryGb: 80, instance: "p5.48xlarge", gpusPerInstance: 8 },
};
