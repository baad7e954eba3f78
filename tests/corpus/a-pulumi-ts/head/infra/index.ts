import * as k8s from "@pulumi/kubernetes";
import * as docker from "@pulumi/docker";

export const ns = new k8s.core.v1.Namespace("inference");

// Moved off the A100 pool: the Grace Hopper nodes run the same image.
const gpuNodeSelector = {
  "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
  "kubernetes.io/arch": "amd64",
};

const image = new docker.Image("embedder", {
  imageName: "ghcr.io/acme/embedder:2.1.0",
  build: {
    context: "../services/embedder",
    platform: "linux/amd64",
  },
});

const lambdaToken = process.env.LAMBDA_API_KEY ?? "";
const cloudToken = process.env.LAMBDA_CLOUD_TOKEN ?? "";

export const embedder = new k8s.apps.v1.Deployment("embedder", {
  metadata: { namespace: ns.metadata.name },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "embedder" } },
    template: {
      metadata: { labels: { app: "embedder" } },
      spec: {
        nodeSelector: gpuNodeSelector,
        containers: [{
          name: "embedder",
          image: image.imageName,
          env: [{ name: "CLOUD_TOKEN", value: cloudToken }],
          resources: { limits: { "nvidia.com/gpu": "1", memory: "32Gi" } },
        }],
      },
    },
  },
});

export const supportedPlatforms = ["linux/amd64", "linux/arm64"];
export const tokenSet = lambdaToken.length > 0;
