// The identity's rights at one watched subscription: read what it judges; in enforce mode, delete
// role assignments, except its own (an ABAC condition on the assignment).
targetScope = 'subscription'

param principalId string
param readerRoleId string
param revokerRoleId string
param enforce bool

resource read 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, 'grantguard-access-reader')
  properties: {
    roleDefinitionId: readerRoleId
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: read role assignments, definitions and PIM schedules'
  }
}

// Delegation condition (Microsoft Learn, "Azure role assignment condition format", the
// Microsoft.Authorization/roleAssignments attributes): deleting is allowed for any assignment
// but grantguard's own, so a bad policy cannot make it blind itself.
resource revoke 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enforce) {
  name: guid(subscription().id, principalId, 'grantguard-revoker')
  properties: {
    roleDefinitionId: revokerRoleId
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard enforce mode: revoke role assignments that a policy enforces on'
    conditionVersion: '2.0'
    condition: '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidNotEquals {${principalId}}))'
  }
}
