variable "region" {
  type    = string
  default = "us-east-1"
}

variable "gpu_instance_type" {
  type    = string
  default = "p5.48xlarge"
}
