// Inference node pool settings shared by the Pulumi stacks.
export const gpuPool = {
  gpu: "GH200",
  gpuMemoryGb: 141,
  nodes: 3,
  hostMemoryGb: 480,
};
