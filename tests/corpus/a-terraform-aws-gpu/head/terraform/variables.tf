variable "region" {
  type    = string
  default = "us-east-1"
}

variable "gpu_instance_type" {
  type        = string
  description = "H100 SXM nodes for training"
  default     = "p5e.48xlarge"
}

locals {
  ami_architecture = "arm64"
}
