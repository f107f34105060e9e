output "instance_id" {
  description = "Monitoring host (aws ssm start-session --target ID ... to reach Grafana)."
  value       = aws_instance.monitoring.id
}

output "pushgateway_url" {
  description = "Pushgateway for the pipeline's drift scores (VOCALBABY_PUSHGATEWAY_URL)."
  value       = "http://${aws_instance.monitoring.private_ip}:9091"
}
