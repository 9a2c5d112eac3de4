// grantguard's two custom roles: what the product reads at the watched scopes, and, in enforce
// mode only, the one write it makes there (deleting a role assignment). Custom rather than
// Reader / Role Based Access Control Administrator: Reader reads every resource's configuration,
// and the RBAC administrator role also creates assignments and opens support tickets.
targetScope = 'subscription'

param assignableScopes array
param enforce bool

// Role names are unique in a directory: the subscription id keeps two deployments apart.
resource reader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, 'grantguard-access-reader')
  properties: {
    roleName: 'grantguard access reader (${subscription().subscriptionId})'
    description: 'Reads role assignments, role definitions, PIM schedules and the scope hierarchy: what grantguard judges.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Authorization/roleAssignments/read'
          'Microsoft.Authorization/roleDefinitions/read'
          'Microsoft.Authorization/roleAssignmentSchedules/read'
          'Microsoft.Authorization/roleAssignmentScheduleInstances/read'
          'Microsoft.Authorization/roleAssignmentScheduleRequests/read'
          'Microsoft.Authorization/roleEligibilitySchedules/read'
          'Microsoft.Authorization/roleEligibilityScheduleInstances/read'
          'Microsoft.Management/managementGroups/read'
          'Microsoft.Resources/subscriptions/read'
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          'Microsoft.ManagedIdentity/userAssignedIdentities/read'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

resource revoker 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (enforce) {
  name: guid(subscription().id, 'grantguard-revoker')
  properties: {
    roleName: 'grantguard revoker (${subscription().subscriptionId})'
    description: 'Deletes role assignments, and nothing else: grantguard enforce mode.'
    type: 'CustomRole'
    permissions: [
      {
        actions: ['Microsoft.Authorization/roleAssignments/delete']
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

output readerRoleId string = reader.id
output revokerRoleId string = enforce ? revoker.id : ''
