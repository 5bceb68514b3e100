/** The one AWS Secrets Manager call drctl needs: the current value of a secret, by name or ARN. */
export interface SecretsManagerPort {
  getSecretString(name: string): Promise<string>;
}
