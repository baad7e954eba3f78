import * as k8s from "@pulumi/kubernetes";

// Inference deployment for the enhanced GPU nodes.
const gpuNodeSelector = {
  "nvidia.com/gpu.product": "NVIDIA-H200",
  "kubernetes.io/arch": "amd64",
};

export const inference = new k8s.apps.v1.Deployment("inference", {
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "inference" } },
    template: {
      metadata: { labels: { app: "inference" } },
      spec: {
        nodeSelector: gpuNodeSelector,
        containers: [{
          name: "vllm",
          image: "ghcr.io/sophia/inference:1.4.0",
          resources: { limits: { "nvidia.com/gpu": "1", memory: "64Gi" } },
        }],
      },
    },
  },
});
