output "load_balancer_dns_name" {
  description = "DNS name of the load balancer (point the service's DNS record here)."
  value       = aws_lb.service.dns_name
}

output "load_balancer_zone_id" {
  description = "Hosted zone of the load balancer (for a Route 53 alias record)."
  value       = aws_lb.service.zone_id
}

output "autoscaling_group_name" {
  description = "Auto Scaling group of the service."
  value       = aws_autoscaling_group.service.name
}

output "image_tag_parameter" {
  description = "SSM parameter holding the released image tag."
  value       = aws_ssm_parameter.image_tag.name
}

output "api_token_parameter" {
  description = "SSM parameter holding the API token."
  value       = aws_ssm_parameter.api_token.name
}
