{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Principal": { "Federated": "arn:aws:iam::123456789012:oidc-provider/${provider}" },
      "Condition": {
        "StringEquals": {
          "${provider}:aud": "sts.amazonaws.com",
          "${provider}:repository_owner_id": "77"
        },
        "StringLike": { "${provider}:sub": "${subject}" }
      }
    }
  ]
}
