// What kai shows on a Linear agent session beside its messages: the plan and external links.

export type PlanStatus = 'pending' | 'inProgress' | 'completed' | 'canceled';
export interface PlanItem {
  content: string;
  status: PlanStatus;
}

export interface ExternalUrl {
  label: string;
  url: string;
}
