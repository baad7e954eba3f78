# GKE node pool for users who run trainkit on Google Cloud: A3 Ultra, 8 × H200 141GB per VM.
variable "project_id" { type = string }
variable "node_count" {
  type    = number
  default = 2
}

resource "google_container_node_pool" "a3_ultra" {
  name       = "a3-ultra"
  project    = var.project_id
  location   = "us-central1"
  cluster    = "trainkit"
  node_count = var.node_count

  node_config {
    machine_type = "a3-ultragpu-8g"
    guest_accelerator {
      type  = "nvidia-h200-141gb"
      count = 8
      gpu_driver_installation_config {
        gpu_driver_version = "LATEST"
      }
    }
  }
}
