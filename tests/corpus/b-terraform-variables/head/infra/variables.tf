variable "region" {
  type    = string
  default = "us-east-3"
}

variable "gpu_count" {
  description = "GPUs in the inference pool"
  type        = number
  default     = 8
}

variable "gpu_memory_gb" {
  description = "Memory per GPU, used to size the model cache"
  type        = number
  default     = 141
}

variable "gpu_hourly_price" {
  description = "On-demand USD per GPU-hour, for the cost dashboard"
  type        = number
  default     = 2.49
}

variable "gpus_per_instance" {
  type    = number
  default = 1
}

variable "root_disk_size_gb" {
  type    = number
  default = 500
}

variable "egress_price_per_gb" {
  type    = number
  default = 0.09
}

variable "gateway_memory_gb" {
  description = "Host memory of the CPU gateway"
  type        = number
  default     = 16
}
